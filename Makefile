# rewards-operator Makefile. `make help` lists the targets.

IMG ?= rewards-operator:latest
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
# Directory holding kube-apiserver, etcd and kubectl, built from Go modules by
# hack/build-test-binaries.sh (no downloads from cloud storage).
ENVTEST_DIR = $(shell hack/build-test-binaries.sh --print-dir)
KUBECTL ?= $(ENVTEST_DIR)/kubectl
GINKGO_FLAGS ?=
# What controller-gen writes; `make verify` fails when these differ from git.
GENERATED = config/crd/bases config/rbac/role.yaml api/v1alpha1/zz_generated.deepcopy.go

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the API types and markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify
verify: manifests generate ## Regenerate everything and fail on any diff, gofmt or go vet finding.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	go vet ./...
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "Generated files are stale; run 'make manifests generate' and commit:"; \
		git status --porcelain -- $(GENERATED); git --no-pager diff -- $(GENERATED) | head -50; exit 1; fi
	@echo "verify: generated files up to date, gofmt and go vet clean"

.PHONY: test-binaries
test-binaries: ## Build kube-apiserver, etcd and kubectl from Go modules into bin/ (once).
	hack/build-test-binaries.sh

.PHONY: test
test: manifests generate test-binaries ## Run all tests (unit and envtest) against a real kube-apiserver.
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" go test ./... -coverprofile cover.out $(GINKGO_FLAGS)

.PHONY: bench
bench: ## Run the benchmarks.
	go test ./internal/... -run '^$$' -bench . -benchmem

##@ Build

.PHONY: build
build: manifests generate ## Build the manager and the kubectl plugin (bin/manager, bin/kubectl-rewards).
	go build -o bin/manager ./cmd
	go build -o bin/kubectl-rewards ./cmd/kubectl-rewards

.PHONY: run-local
run-local: manifests generate test-binaries ## Start a local control plane, install CRDs, default program and samples, run the operator (Ctrl-C stops all).
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" go run ./hack/run-local

.PHONY: run
run: manifests generate ## Run the operator against the cluster of the current kubeconfig.
	go run ./cmd

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests test-binaries ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: test-binaries ## Remove the CRDs from the cluster of the current kubeconfig.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests test-binaries ## Deploy the operator to the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/default

##@ Tools

$(CONTROLLER_GEN):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)
