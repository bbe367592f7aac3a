package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/internal/status"
)

// Every status the operator writes goes through status.Write (tested here,
// on the controllers suite's API server). A Pod (which
// no controller here reconciles, and no scheduler runs in envtest) stands
// for any object with a status subresource.
var _ = Describe("status.Write", func() {
	It("replaces the whole status, and is refused with a conflict when the object changed since it was read", func() {
		ns := newNamespace()
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "status-write", Labels: map[string]string{"team": "billing"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.invalid/none"}}},
		}
		Expect(k8sClient.Create(bg, pod)).To(Succeed())
		read := pod.DeepCopy()
		current := func() *corev1.Pod {
			var got corev1.Pod
			Expect(k8sClient.Get(bg, client.ObjectKeyFromObject(pod), &got)).To(Succeed())
			return &got
		}

		Expect(status.Write(bg, k8sClient, read, read.ResourceVersion,
			corev1.PodStatus{Phase: corev1.PodPending, Message: "first", Reason: "Testing"})).To(Succeed())
		first := current()
		Expect(first.Status.Message).To(Equal("first"))
		Expect(first.Status.Reason).To(Equal("Testing"))
		Expect(first.ResourceVersion).NotTo(Equal(read.ResourceVersion))

		// A status computed from what was read before that write: refused,
		// whatever it says, and nothing written.
		err := status.Write(bg, k8sClient, read, read.ResourceVersion, corev1.PodStatus{Phase: corev1.PodPending, Message: "stale"})
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "want a conflict, got %v", err)
		Expect(current().Status.Message).To(Equal("first"))

		// From the current version: a field left out of the new status is
		// gone, not kept from the old one as a merge patch would; the rest
		// of the object is not the status write's to change.
		Expect(status.Write(bg, k8sClient, first, first.ResourceVersion,
			corev1.PodStatus{Phase: corev1.PodPending, Message: "second"})).To(Succeed())
		second := current()
		Expect(second.Status.Message).To(Equal("second"))
		Expect(second.Status.Reason).To(BeEmpty())
		Expect(second.Labels).To(HaveKeyWithValue("team", "billing"))
		Expect(second.Spec.Containers).To(HaveLen(1))

		// An object deleted meanwhile: not found, which the controllers
		// take as nothing left to report on.
		Expect(k8sClient.Delete(bg, second, client.GracePeriodSeconds(0))).To(Succeed())
		Eventually(func() bool {
			err := status.Write(bg, k8sClient, second, second.ResourceVersion, corev1.PodStatus{Message: "late"})
			return apierrors.IsNotFound(err)
		}).Should(BeTrue())
	})
})
