package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// devVersion is the version of a build that was not given one (go build
// without -ldflags -X main.version=..., go run).
const devVersion = "dev"

// The labels the operator's Deployment carries, from config/manager and
// from the chart: its name, and (chart only) its release.
const (
	operatorNameLabel    = "app.kubernetes.io/name"
	operatorName         = "rewards-operator"
	operatorVersionLabel = "app.kubernetes.io/version"
	managerContainer     = "manager"
)

type versionFlags struct {
	client            bool
	output            string
	operatorNamespace string
}

// VersionInfo is what version prints with -o json or -o yaml.
type VersionInfo struct {
	// Plugin is this kubectl-rewards' version.
	Plugin string `json:"plugin"`
	// Operators are the operator's Deployments found, with their version.
	Operators []OperatorVersion `json:"operators,omitempty"`
	// OperatorError says why no operator version is known, when none is.
	OperatorError string `json:"operatorError,omitempty"`
}

// OperatorVersion is one Deployment of the operator.
type OperatorVersion struct {
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	Image      string `json:"image"`
	// Version is the image's tag, or else the Deployment's
	// app.kubernetes.io/version label; "" when neither says.
	Version string `json:"version,omitempty"`
	// Ready is ready replicas over desired, as kubectl shows them.
	Ready string `json:"ready"`
}

func newVersionCommand(o *Options) *cobra.Command {
	f := &versionFlags{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version and the operator's, and warn when they differ",
		Long: `Print the version of kubectl-rewards and of the operator running in the
cluster, and warn when they differ: the plugin decides with its own copy
of the operator's rules (explain, simulate), so the two should be of the
same release.

The operator's version is the tag of its manager container's image, read
from its Deployment (found by the label app.kubernetes.io/name=rewards-operator
that both the installer and the Helm chart set); for an image pinned by
digest only, the Deployment's app.kubernetes.io/version label (Helm).
Reading it needs the right to list Deployments, in every namespace or in
the one of --operator-namespace.`,
		Example: `  # Both versions
  kubectl rewards version

  # The plugin's only, without a cluster
  kubectl rewards version --client

  # The operator installed in namespace rewards-system, as JSON
  kubectl rewards version --operator-namespace rewards-system -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.version(cmd, f) },
	}
	cmd.Flags().BoolVar(&f.client, "client", false, "print the plugin's version only, without reading the cluster")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "output format: json or yaml (default: text)")
	cmd.Flags().StringVar(&f.operatorNamespace, "operator-namespace", "", "the namespace the operator runs in (default: search every namespace)")
	_ = cmd.RegisterFlagCompletionFunc("output", completeValues(outputJSON, outputYAML))
	_ = cmd.RegisterFlagCompletionFunc("operator-namespace", o.completeNamespaces)
	return cmd
}

func (o *Options) version(cmd *cobra.Command, f *versionFlags) error {
	if f.output != "" && f.output != outputJSON && f.output != outputYAML {
		return usageErrorf(cmd, "--output %q: use json or yaml, or leave it out for text", f.output)
	}
	info := VersionInfo{Plugin: o.Version}
	if !f.client {
		info.Operators, info.OperatorError = o.operatorVersions(cmd, f.operatorNamespace)
	}
	switch f.output {
	case outputJSON:
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(info); err != nil {
			return err
		}
	case outputYAML:
		b, err := yaml.Marshal(info)
		if err != nil {
			return err
		}
		if _, err := o.Out.Write(b); err != nil {
			return err
		}
	default:
		writeVersion(o.Out, info, f.client)
	}
	for _, op := range info.Operators {
		if warning := mismatch(info.Plugin, op); warning != "" {
			fmt.Fprintf(o.ErrOut, "warning: %s\n", warning)
		}
	}
	return nil
}

// operatorVersions finds the operator's Deployments; when it cannot, the
// string says why (the plugin's version is still printed).
func (o *Options) operatorVersions(cmd *cobra.Command, namespace string) ([]OperatorVersion, string) {
	c, err := o.client()
	if err != nil {
		return nil, err.Error()
	}
	var list appsv1.DeploymentList
	err = c.List(ctx(cmd), &list, client.InNamespace(namespace), client.MatchingLabels{operatorNameLabel: operatorName})
	where := "in any namespace"
	if namespace != "" {
		where = "in namespace " + namespace
	}
	switch {
	case apierrors.IsForbidden(err) && namespace == "":
		return nil, "you may not list Deployments in every namespace; give --operator-namespace"
	case err != nil:
		return nil, fmt.Sprintf("listing Deployments %s: %v", where, err)
	case len(list.Items) == 0:
		return nil, fmt.Sprintf("no Deployment labelled %s=%s %s", operatorNameLabel, operatorName, where)
	}
	out := make([]OperatorVersion, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, operatorVersionOf(&list.Items[i]))
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace < out[j].Namespace || (out[i].Namespace == out[j].Namespace && out[i].Deployment < out[j].Deployment)
	})
	return out, ""
}

// operatorVersionOf reads the version of one Deployment of the operator:
// its manager container's image tag (the first container's when none is
// named manager), else its app.kubernetes.io/version label.
func operatorVersionOf(d *appsv1.Deployment) OperatorVersion {
	v := OperatorVersion{Namespace: d.Namespace, Deployment: d.Name}
	containers := d.Spec.Template.Spec.Containers
	for i, c := range containers {
		if c.Name == managerContainer || (i == 0 && v.Image == "") {
			v.Image = c.Image
		}
	}
	v.Version = imageTag(v.Image)
	if v.Version == "" {
		v.Version = d.Labels[operatorVersionLabel]
	}
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	v.Ready = fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, desired)
	return v
}

// imageTag is the tag of an image reference (registry:port/repo:tag@digest),
// "" when it has none.
func imageTag(image string) string {
	name, _, _ := strings.Cut(image, "@")
	colon := strings.LastIndex(name, ":")
	if colon < 0 || colon < strings.LastIndex(name, "/") {
		return ""
	}
	return name[colon+1:]
}

// mismatch is the warning for a plugin and an operator of different
// releases, "" when they agree or the operator's version is unknown.
func mismatch(plugin string, op OperatorVersion) string {
	if op.Version == "" || strings.TrimPrefix(plugin, "v") == strings.TrimPrefix(op.Version, "v") {
		return ""
	}
	return fmt.Sprintf("kubectl-rewards %s and the operator %s (Deployment %s/%s) differ: the plugin decides with its own copy of the "+
		"operator's rules, so explain and simulate may disagree with the operator; install kubectl-rewards %s",
		plugin, op.Version, op.Namespace, op.Deployment, op.Version)
}

// writeVersion prints the versions as text.
func writeVersion(out io.Writer, info VersionInfo, clientOnly bool) {
	w := newTables(out)
	defer w.flush()
	fmt.Fprintf(w, "kubectl-rewards:\t%s\n", info.Plugin)
	if clientOnly {
		return
	}
	if info.OperatorError != "" {
		fmt.Fprintf(w, "operator:\tunknown: %s\n", info.OperatorError)
	}
	for _, op := range info.Operators {
		v := op.Version
		if v == "" {
			v = "unknown"
		}
		fmt.Fprintf(w, "operator:\t%s (Deployment %s/%s, image %s, %s ready)\n", v, op.Namespace, op.Deployment, op.Image, op.Ready)
	}
}
