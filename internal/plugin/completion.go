package plugin

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// shells are the shells completion prints a script for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

func newCompletionCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script of kubectl-rewards",
		Long: `Print the completion script of kubectl-rewards for a shell. It completes
commands, kinds, flags, and the names of publishers, activations and
namespaces read from the cluster.

Through kubectl: kubectl (1.26 and later) completes "kubectl rewards ..."
itself once an executable named kubectl_complete-rewards is on your PATH.
The release archives hold one (a two-line script); with krew, copy it
next to the plugin (see docs/plugin.md). A copy of kubectl-rewards named
kubectl_complete-rewards works too, on every platform.

Run directly as kubectl-rewards: load the script this command prints.`,
		Example: `  # bash, this session (needs the bash-completion package)
  source <(kubectl-rewards completion bash)

  # bash, every session
  kubectl-rewards completion bash > ~/.local/share/bash-completion/completions/kubectl-rewards

  # zsh
  kubectl-rewards completion zsh > "${fpath[1]}/_kubectl-rewards"

  # fish
  kubectl-rewards completion fish > ~/.config/fish/completions/kubectl-rewards.fish`,
		ValidArgs: shells,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := exactArgs("SHELL")(cmd, args); err != nil {
				return err
			}
			for _, s := range shells {
				if args[0] == s {
					return nil
				}
			}
			return usageErrorf(cmd, "unknown shell %q: use %s", args[0], strings.Join(shells, ", "))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(o.Out, true)
			case "zsh":
				return root.GenZshCompletion(o.Out)
			case "fish":
				return root.GenFishCompletion(o.Out, true)
			default:
				return root.GenPowerShellCompletionWithDesc(o.Out)
			}
		},
	}
}

// registerFlagCompletions completes the kubeconfig flags every command has:
// -n with the cluster's namespaces, --context, --cluster and --user with
// the kubeconfig's.
func registerFlagCompletions(root *cobra.Command, o *Options) {
	kubeconfigNames := func(names func(contexts, clusters, users []string) []string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var contexts, clusters, users []string
			for n := range raw.Contexts {
				contexts = append(contexts, n)
			}
			for n := range raw.Clusters {
				clusters = append(clusters, n)
			}
			for n := range raw.AuthInfos {
				users = append(users, n)
			}
			out := names(contexts, clusters, users)
			sort.Strings(out)
			return out, cobra.ShellCompDirectiveNoFileComp
		}
	}
	for flag, f := range map[string]cobra.CompletionFunc{
		"namespace": o.completeNamespaces,
		"context":   kubeconfigNames(func(c, _, _ []string) []string { return c }),
		"cluster":   kubeconfigNames(func(_, c, _ []string) []string { return c }),
		"user":      kubeconfigNames(func(_, _, u []string) []string { return u }),
	} {
		if err := root.RegisterFlagCompletionFunc(flag, f); err != nil {
			panic(fmt.Sprintf("completing --%s: %v", flag, err)) // a flag of ConfigFlags renamed
		}
	}
}

// completeNamespaces completes -n with the cluster's namespaces.
func (o *Options) completeNamespaces(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	c, err := o.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var list corev1.NamespaceList
	if err := c.List(ctx(cmd), &list); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return namesWithPrefix(&list, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeNames completes a command's NAME argument with the names of the
// objects of list's kind in the namespace of -n (or the context's).
func (o *Options) completeNames(list client.ObjectList) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ns, err := o.namespace()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		c, err := o.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		l, _ := list.DeepCopyObject().(client.ObjectList)
		if err := c.List(ctx(cmd), l, client.InNamespace(ns)); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return namesWithPrefix(l, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// namesWithPrefix are the names of list's objects that start with prefix,
// sorted.
func namesWithPrefix(list client.ObjectList, prefix string) []string {
	var names []string
	_ = meta.EachListItem(list, func(obj runtime.Object) error {
		if m, err := meta.Accessor(obj); err == nil && strings.HasPrefix(m.GetName(), prefix) {
			names = append(names, m.GetName())
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// completeFiles completes a file argument or flag with files of the given
// extensions (and directories).
func completeFiles(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// completeValues completes a flag with fixed values.
func completeValues(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
