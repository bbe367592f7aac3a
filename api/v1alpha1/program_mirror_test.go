package v1alpha1_test

import (
	"fmt"
	"math/rand/v2"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	rewardsv1alpha1 "github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards/programfuzz"
)

// internal/rewards fuzzes ResolveProgram against programfuzz.Admitted, a Go
// mirror of the program's admission rules ("what admission accepts,
// ResolveProgram accepts"). Here the mirror meets the real API server: on
// generated programs, consistent and inconsistent alike, both must decide
// the same, so the fuzz's premise holds for the CRD as shipped.
var _ = Describe("The Go mirror of program admission", func() {
	It("decides as the API server does on generated programs", func() {
		const programs = 300
		rng := rand.New(rand.NewPCG(10, 2))
		admitted, refused := 0, 0
		for i := range programs {
			data := make([]byte, rng.IntN(40))
			for j := range data {
				data[j] = byte(rng.IntN(256))
			}
			spec := programfuzz.Generate(data)
			mirror := programfuzz.Admitted(&spec)
			prog := &rewardsv1alpha1.RewardsProgram{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("mirror-%d", i)}, Spec: spec}
			err := k8sClient.Create(ctx, prog, client.DryRunAll)
			if mirror == nil {
				Expect(err).NotTo(HaveOccurred(), "the mirror admits program %d (bytes %v) but the API server refuses it: %+v", i, data, spec)
				admitted++
				continue
			}
			Expect(err).To(HaveOccurred(), "the mirror refuses program %d (bytes %v: %v) but the API server accepts it: %+v", i, data, mirror, spec)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "program %d is refused for another reason than its content: %v", i, err)
			refused++
		}
		GinkgoWriter.Printf("%d generated programs admitted, %d refused, as the mirror said\n", admitted, refused)
		Expect(admitted).To(BeNumerically(">", programs/5), "too few consistent programs to compare")
		Expect(refused).To(BeNumerically(">", programs/5), "too few inconsistent programs to compare")
	})
})
