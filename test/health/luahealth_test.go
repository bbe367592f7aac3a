package health

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The Argo CD health scripts and how Argo CD runs them.

var (
	argoDir        = filepath.Join("..", "..", "config", "argocd")
	healthYAMLPath = filepath.Join(argoDir, "health.yaml")
)

// scriptPath is the file holding kind's health script.
func scriptPath(kind string) string {
	return filepath.Join(argoDir, "health", strings.ToLower(kind)+".lua")
}

// argoKey is the argocd-cm key under which Argo CD looks up kind's health
// script: resource.customizations.health.<group>_<kind>.
func argoKey(group, kind string) string {
	return "resource.customizations.health." + group + "_" + kind
}

// readScripts reads every kind's script, keyed by kind.
func readScripts() (map[string]string, error) {
	out := map[string]string{}
	for _, k := range kinds {
		b, err := os.ReadFile(scriptPath(k))
		if err != nil {
			return nil, err
		}
		out[k] = string(b)
	}
	return out, nil
}

// healthYAMLHeader opens config/argocd/health.yaml.
const healthYAMLHeader = `# Argo CD health checks for the rewards-operator kinds
# (rewards.marketplace.io/v1alpha1): a patch for Argo CD's argocd-cm.
#
# GENERATED from config/argocd/health/*.lua, do not edit here. After changing
# a script, regenerate this file with
#   go test ./test/health/ -run TestArgoCDHealthYAML -update
#
# Apply it with kustomize over Argo CD's install manifests
#   patches:
#   - path: health.yaml        # a copy of this file
# or to a running Argo CD with
#   kubectl -n argocd patch configmap argocd-cm --patch-file config/argocd/health.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
data:
`

// renderHealthYAML renders health.yaml from the scripts: one key per kind,
// each script as a literal block, in a stable order.
func renderHealthYAML(scripts map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(healthYAMLHeader)
	for _, k := range []string{"BenefitActivation", "Offer", "Publisher", "RewardsProgram", "SalesRecord"} {
		s := scripts[k]
		// A literal block with clip chomping keeps exactly one final newline.
		if !strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\n\n") {
			return nil, fmt.Errorf("%s: a script must end with exactly one newline", scriptPath(k))
		}
		fmt.Fprintf(&b, "  %s: |\n", argoKey(v1alpha1.GroupVersion.Group, k))
		for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			if strings.TrimRight(line, " \t") != line {
				return nil, fmt.Errorf("%s: trailing whitespace in %q", scriptPath(k), line)
			}
			if line == "" {
				b.WriteString("\n")
				continue
			}
			b.WriteString("    " + line + "\n")
		}
	}
	return b.Bytes(), nil
}

// argoHealth is what a health script returns.
type argoHealth struct {
	Status  string
	Message string
}

// Argo CD's health statuses.
var argoStatuses = []string{"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

// runHealthScript runs a health script on obj the way Argo CD runs a
// health script from argocd-cm: gopher-lua with only the package, base and
// table libraries (no string, math or io), a one-second limit, obj as a
// global, and the table the script returns as the result.
func runHealthScript(script string, obj map[string]interface{}) (argoHealth, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return argoHealth{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(ctx)

	v, err := toLua(L, obj)
	if err != nil {
		return argoHealth{}, err
	}
	L.SetGlobal("obj", v)
	if err := L.DoString(script); err != nil {
		return argoHealth{}, err
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return argoHealth{}, fmt.Errorf("the script returned %s, not a table", L.Get(-1).Type())
	}
	status, ok := hs.RawGetString("status").(lua.LString)
	if !ok {
		return argoHealth{}, fmt.Errorf("hs.status is %s, not a string", hs.RawGetString("status").Type())
	}
	h := argoHealth{Status: string(status)}
	switch m := hs.RawGetString("message").(type) {
	case lua.LString:
		h.Message = string(m)
	case *lua.LNilType:
	default:
		return argoHealth{}, fmt.Errorf("hs.message is %s, not a string", m.Type())
	}
	for _, s := range argoStatuses {
		if h.Status == s {
			return h, nil
		}
	}
	return argoHealth{}, fmt.Errorf("hs.status %q is not an Argo CD health status", h.Status)
}

// toLua converts a value of an unstructured object (JSON types as
// apimachinery decodes them) into a Lua value: maps to tables with string
// keys, slices to sequences (1-based), numbers to numbers.
func toLua(L *lua.LState, v interface{}) (lua.LValue, error) {
	switch v := v.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(v), nil
	case string:
		return lua.LString(v), nil
	case int64:
		return lua.LNumber(v), nil
	case int32:
		return lua.LNumber(v), nil
	case int:
		return lua.LNumber(v), nil
	case float64:
		return lua.LNumber(v), nil
	case []interface{}:
		t := L.CreateTable(len(v), 0)
		for _, item := range v {
			lv, err := toLua(L, item)
			if err != nil {
				return nil, err
			}
			t.Append(lv)
		}
		return t, nil
	case map[string]interface{}:
		t := L.CreateTable(0, len(v))
		for k, item := range v {
			lv, err := toLua(L, item)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	}
	return nil, fmt.Errorf("cannot convert %T to Lua", v)
}
