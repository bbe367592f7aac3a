# rewards-operator Makefile. `make help` lists the targets.

# The release this tree builds. To release x.y.z: set it here, run
# `make release`, commit, tag vx.y.z and publish dist/ (see docs/development.md).
VERSION ?= 0.1.0
IMAGE_REPO ?= ghcr.io/marketplace-rewards/rewards-operator
# Release images are tagged vx.y.z and never re-tagged (no :latest).
IMG ?= $(IMAGE_REPO):v$(VERSION)
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
# kustomize renders dist/install.yaml; the version kubectl 1.36 embeds, which
# test/deploy renders config/default with.
KUSTOMIZE_VERSION ?= v5.8.1
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
# helm lints, renders and installs the chart in test/release, and packages it.
HELM_VERSION ?= v4.3.2
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
# ko builds the image without a Docker daemon (make ko-build; not used in CI).
KO_VERSION ?= v0.19.1
KO ?= $(LOCALBIN)/ko-$(KO_VERSION)
# golangci-lint runs the linters of .golangci.yml (make lint, run by make verify).
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# crd-ref-docs renders docs/api.md from the Go types and their markers (make docs).
CRD_REF_DOCS_VERSION ?= v0.3.0
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)
# krew and its manifest validator: make release-plugin validates the
# plugin's krew manifest and installs each archive with them (v0.4.3 is
# the newest release the Go module proxy serves).
KREW_VERSION ?= v0.4.3
KREW ?= $(LOCALBIN)/krew-$(KREW_VERSION)
KREW_VALIDATE ?= $(LOCALBIN)/validate-krew-manifest-$(KREW_VERSION)
# The platforms kubectl-rewards is released for, and where the release's
# assets are published (the krew manifest's URIs).
PLUGIN_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
RELEASE_URL ?= https://github.com/marketplace-rewards/rewards-operator/releases/download/v$(VERSION)
CHART_DIR = charts/rewards-operator
# The ClusterRoles and Role of config/rbac whose rules the chart grants.
CHART_RBAC = role leader_election_role metrics_auth_role metrics_reader_role partner_editor_role viewer_role
# Directory holding kube-apiserver, etcd and kubectl, built from Go modules by
# hack/build-test-binaries.sh (no downloads from cloud storage).
ENVTEST_DIR = $(shell hack/build-test-binaries.sh --print-dir)
KUBECTL ?= $(ENVTEST_DIR)/kubectl
GINKGO_FLAGS ?=
# What `make manifests generate build-installer docs` writes; `make verify`
# fails when these differ from git.
GENERATED = config/crd/bases config/rbac/role.yaml api/v1alpha1/zz_generated.deepcopy.go \
	$(CHART_DIR)/crds $(CHART_DIR)/files $(CHART_DIR)/Chart.yaml config/manager/kustomization.yaml \
	dist/install.yaml dist/crds.yaml docs/api.md
# The Kubernetes versions make test-k8s-matrix runs the API and controller
# suites against, one per supported minor (the oldest is the chart's
# kubeVersion and the README's table (docs/install.md explains it);
# test/release checks both).
K8S_MATRIX ?= v1.33.13 v1.34.4 v1.36.3

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the API types and markers, and copy them into the chart.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	$(MAKE) --no-print-directory chart-files

# The chart's CRDs are templates (templates/crds.yaml renders files/crds),
# not a crds/ directory, which Helm installs once and never upgrades.
.PHONY: chart-files
chart-files: ## Copy what the chart shares with config/ into its files/, and stamp VERSION into Chart.yaml.
	rm -rf $(CHART_DIR)/crds $(CHART_DIR)/files
	mkdir -p $(CHART_DIR)/files/crds $(CHART_DIR)/files/rbac $(CHART_DIR)/files/prometheus \
		$(CHART_DIR)/files/dashboards $(CHART_DIR)/files/programs
	cp config/crd/bases/*.yaml $(CHART_DIR)/files/crds/
	for role in $(CHART_RBAC); do cp config/rbac/$$role.yaml $(CHART_DIR)/files/rbac/; done
	cp config/prometheus/prometheus_rule.yaml $(CHART_DIR)/files/prometheus/
	cp config/prometheus/dashboards/*.json $(CHART_DIR)/files/dashboards/
	cp config/programs/default.yaml $(CHART_DIR)/files/programs/
	sed -e 's/^version: .*/version: $(VERSION)/' -e 's/^appVersion: .*/appVersion: "v$(VERSION)"/' \
		$(CHART_DIR)/Chart.yaml > $(CHART_DIR)/Chart.yaml.tmp && mv $(CHART_DIR)/Chart.yaml.tmp $(CHART_DIR)/Chart.yaml

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: docs
docs: $(CRD_REF_DOCS) ## Generate the API reference docs/api.md from the Go types and markers (config: hack/crd-ref-docs.yaml).
	$(CRD_REF_DOCS) --source-path=./api --config=hack/crd-ref-docs.yaml --renderer=markdown \
		--output-path=docs/api.md.tmp --log-level=ERROR
	{ echo '<!-- Generated by `make docs` (crd-ref-docs $(CRD_REF_DOCS_VERSION)) from api/v1alpha1: do not edit. -->'; \
		echo; cat docs/api.md.tmp; } > docs/api.md
	rm -f docs/api.md.tmp

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint with .golangci.yml (the scale benchmark's build tag included).
	$(GOLANGCI_LINT) run ./...

.PHONY: lint-fix
lint-fix: $(GOLANGCI_LINT) ## Run golangci-lint and apply the fixes it can make.
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: verify
verify: manifests generate build-installer docs lint ## Regenerate everything and fail on any diff, gofmt, go vet or lint finding.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	go vet ./...
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "Generated files are stale; run 'make manifests generate build-installer docs' and commit:"; \
		git status --porcelain -- $(GENERATED); git --no-pager diff -- $(GENERATED) | head -50; exit 1; fi
	@echo "verify: generated files up to date, gofmt and go vet clean"

.PHONY: test-binaries
test-binaries: ## Build kube-apiserver, etcd and kubectl from Go modules into bin/ (once).
	hack/build-test-binaries.sh

.PHONY: test
test: manifests generate build-installer test-binaries $(HELM) $(KREW) $(KREW_VALIDATE) ## Run all tests (unit and envtest) against a real kube-apiserver.
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" HELM="$(HELM)" UPGRADE_FROM="$(UPGRADE_FROM)" KREW="$(KREW)" KREW_VALIDATE="$(KREW_VALIDATE)" \
		go test ./... -coverprofile cover.out $(GINKGO_FLAGS)

# Not part of make test: each minor's kube-apiserver takes minutes to build
# (once, cached under bin/k8s/), and the suites run once per minor.
.PHONY: test-k8s-matrix
test-k8s-matrix: manifests generate test-binaries ## Run the API and controller suites against each Kubernetes minor of K8S_MATRIX.
	hack/test-k8s-matrix.sh $(K8S_MATRIX)

# The previous release to upgrade from: a tag once one exists; until then
# the commit that introduced BenefitGrant.
UPGRADE_FROM ?= 548df4f
.PHONY: test-upgrade
test-upgrade: manifests generate build-installer test-binaries $(HELM) ## Upgrade from UPGRADE_FROM with kubectl and with helm, and compare every record (also run by make test).
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" HELM="$(HELM)" UPGRADE_FROM="$(UPGRADE_FROM)" \
		go test ./test/upgrade/... -count=1 -v -timeout 30m $(GINKGO_FLAGS)

.PHONY: bench
bench: ## Run the benchmarks.
	go test ./internal/... -run '^$$' -bench . -benchmem

# import sales of IMPORT_ROWS new lines into a local API server (envtest, no
# operator), then of the same file again, which must write nothing.
IMPORT_ROWS ?= 20000
IMPORT_BENCH_FLAGS ?=
.PHONY: bench-import
bench-import: test-binaries ## Measure kubectl rewards import sales: rows/s for IMPORT_ROWS=20000 lines (IMPORT_BENCH_FLAGS="-import-parallel=32").
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" go test ./internal/plugin -run '^$$' -bench BenchmarkImportSales -benchtime 1x -v \
		-args -import-rows=$(IMPORT_ROWS) $(IMPORT_BENCH_FLAGS)

# The scale benchmark (test/scale, build tag scale; not part of `make test`):
# P publishers' objects converged by the operator and, at the same time on a
# copy of its own, by a floor manager that only writes one status per
# object: ROUNDS rounds of each worker count in WORKERS; then a cold start,
# a warm restart and a leader failover with every status written. With
# BASELINE, a source tree of another commit (`git worktree add DIR REV`),
# that tree's operator runs in the floor's place: an A/B comparison of two
# builds at the same time (no day-2 rows).
P ?= 100
WORKERS ?= 4
ROUNDS ?= 3
IDLE ?= 2m
BASELINE ?=
BENCH_SCALE_FLAGS ?=
.PHONY: bench-scale
bench-scale: test-binaries ## Run the scale benchmark side by side with its floor (P=100 WORKERS=4 ROUNDS=3 IDLE=2m BASELINE=dir BENCH_SCALE_FLAGS="-report=scale.md").
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" go test -tags scale ./test/scale -run TestScale -v -timeout 12h \
		-args -publishers=$(P) -workers="$(WORKERS)" -rounds=$(ROUNDS) -idle=$(IDLE) $(if $(BASELINE),-baseline=$(abspath $(BASELINE))) $(BENCH_SCALE_FLAGS)

##@ Build

.PHONY: build
build: manifests generate ## Build the manager and the kubectl plugin (bin/manager, bin/kubectl-rewards).
	go build -ldflags "-X main.version=v$(VERSION)" -o bin/manager ./cmd
	go build -ldflags "-X main.version=v$(VERSION)" -o bin/kubectl-rewards ./cmd/kubectl-rewards

# Built, then run (not `go run`, which exits 1 when Ctrl-C interrupts the
# program, however cleanly it stops).
.PHONY: run-local
run-local: manifests generate test-binaries ## Start a local control plane, install CRDs, default program and samples, run the operator (Ctrl-C stops all).
	go build -o bin/run-local/run-local ./hack/run-local
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" bin/run-local/run-local

.PHONY: run
run: manifests generate ## Run the operator against the cluster of the current kubeconfig.
	go run ./cmd

.PHONY: docker-build
docker-build: ## Build the container image IMG (needs a Docker engine).
	docker build --build-arg VERSION=v$(VERSION) -t $(IMG) .

# ko builds the image from the Go sources, without Docker: distroless
# nonroot base, linux/amd64 and linux/arm64 (.ko.yaml). It pulls the base
# image from gcr.io. The result is an OCI image layout (an index of both
# platforms; ko's --tarball holds one platform only), which
# `crane push dist/image <ref>` publishes, and its tar archive.
# KO_FLAGS=--push=true pushes to IMAGE_REPO directly instead.
KO_FLAGS ?= --push=false --oci-layout-path=dist/image
.PHONY: ko-build
ko-build: $(KO) ## Build the multi-arch image with ko (no Docker) into dist/ (OCI layout and tarball).
	rm -rf dist/image
	@mkdir -p dist
	VERSION=v$(VERSION) KO_DOCKER_REPO=$(IMAGE_REPO) $(KO) build ./cmd --bare --tags=v$(VERSION) $(KO_FLAGS)
	if [ -d dist/image ]; then tar -C dist/image -cf dist/rewards-operator-v$(VERSION)-image.tar .; fi

##@ Release

.PHONY: build-installer
build-installer: manifests $(KUSTOMIZE) ## Render dist/install.yaml (CRDs, RBAC, manager pinned to IMG) from config/default, and dist/crds.yaml from config/crd.
	@mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml
	$(KUSTOMIZE) build config/crd > dist/crds.yaml

# The VERSION line of this Makefile, which make verify renders with.
MAKEFILE_VERSION = $(shell sed -n 's/^VERSION ?= //p' Makefile)

# The SBOM tool, fetched from the Go module proxy.
CYCLONEDX_GOMOD_VERSION ?= v1.10.0
CYCLONEDX_GOMOD ?= $(LOCALBIN)/cyclonedx-gomod-$(CYCLONEDX_GOMOD_VERSION)
# What make release attaches to the GitHub release, all in dist/.
RELEASE_ASSETS = install.yaml crds.yaml default-program.yaml rewards-operator-$(VERSION).tgz \
	rewards-operator-v$(VERSION).sbom.cdx.json

.PHONY: release
release: ## Write the release assets of VERSION into dist/: installer, CRDs, program, chart, SBOM, SHA256SUMS, notes.
	@if [ "$(VERSION)" != "$(MAKEFILE_VERSION)" ]; then \
		echo "VERSION $(VERSION) is not the Makefile's ($(MAKEFILE_VERSION)): set 'VERSION ?= $(VERSION)' in the Makefile first,"; \
		echo "so that what make verify renders is the release."; exit 1; fi
	$(MAKE) --no-print-directory build-installer $(HELM) $(CYCLONEDX_GOMOD)
	hack/release-notes.sh $(VERSION) CHANGELOG.md > dist/release-notes.md.tmp
	mv dist/release-notes.md.tmp dist/release-notes.md
	$(HELM) lint --strict $(CHART_DIR)
	$(HELM) package $(CHART_DIR) --destination dist
	cp config/programs/default.yaml dist/default-program.yaml
	@# The SBOM lists the Go modules (versions and hashes) in the manager as
	@# the image builds it (Dockerfile, .ko.yaml), read from its build info.
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w -X main.version=v$(VERSION)" \
		-o dist/sbom/manager ./cmd
	$(CYCLONEDX_GOMOD) bin -json -version v$(VERSION) -output dist/rewards-operator-v$(VERSION).sbom.cdx.json dist/sbom/manager
	rm -rf dist/sbom
	cd dist && sha256sum $(RELEASE_ASSETS) > SHA256SUMS
	$(MAKE) --no-print-directory release-plugin
	@echo "dist/: $(RELEASE_ASSETS) SHA256SUMS, and dist/plugin/; attach them to the v$(VERSION) release with dist/release-notes.md as its notes."

# Reproducible: the archives' times are the last commit's (or
# SOURCE_DATE_EPOCH), so rebuilding a tag gives the sums of its manifest.
.PHONY: release-plugin
release-plugin: $(KREW) $(KREW_VALIDATE) ## Build kubectl-rewards for PLUGIN_PLATFORMS into dist/plugin/: archives, sha256 sums and the krew manifest rewards.yaml, validated and installed by krew.
	rm -rf dist/plugin
	go run ./hack/release-plugin -version v$(VERSION) -url $(RELEASE_URL) -out dist/plugin -platforms "$(PLUGIN_PLATFORMS)" \
		-validate $(KREW_VALIDATE) -krew $(KREW)
	@echo "dist/plugin/: attach the archives and checksums to the v$(VERSION) release; rewards.yaml is the krew manifest."

##@ Deployment

# The operator's objects in dist/install.yaml carry this label; its CRDs do
# not, so deleting by it removes the operator and keeps every record.
OPERATOR_SELECTOR = app.kubernetes.io/name=rewards-operator

.PHONY: install
install: manifests test-binaries ## Install or upgrade the CRDs in the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: deploy
deploy: build-installer test-binaries ## Deploy or upgrade the operator (image IMG) and its CRDs in the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -f dist/install.yaml

.PHONY: uninstall
uninstall: test-binaries ## Remove the operator from the cluster of the current kubeconfig; the CRDs and every rewards object stay.
	$(KUBECTL) delete --ignore-not-found -f dist/install.yaml -l $(OPERATOR_SELECTOR)
	@echo "The CRDs and every rewards object, BenefitGrant records included, are kept (docs/upgrade.md, \"Uninstalling\")."

# Deliberately not a prerequisite of anything: it deletes every record.
.PHONY: delete-crds
delete-crds: ## Delete the CRDs and with them EVERY rewards object and record (CONFIRM=delete-every-record).
	@if [ "$(CONFIRM)" != "delete-every-record" ]; then \
		echo "This deletes the rewards CRDs and with them every RewardsProgram, Publisher, Offer, SalesRecord,"; \
		echo "BenefitActivation, BenefitGrant and RewardsProgramRevision (the records) in the cluster."; \
		echo "Back them up first (docs/operations.md, \"Backup and restore\")."; \
		echo "To go on: make delete-crds CONFIRM=delete-every-record"; exit 1; fi
	$(MAKE) --no-print-directory test-binaries
	$(KUBECTL) delete --ignore-not-found -f dist/crds.yaml

##@ Tools

.PHONY: tools
tools: $(CONTROLLER_GEN) $(KUSTOMIZE) $(HELM) $(GOLANGCI_LINT) $(CRD_REF_DOCS) $(KREW) $(KREW_VALIDATE) ## Install the pinned tools make verify and make test use into bin/ (once).

$(CONTROLLER_GEN):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)

$(KUSTOMIZE):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(LOCALBIN)/kustomize $(KUSTOMIZE)

# Builds from source (several minutes on 2 cores, once); the -X flag gives
# `helm version` the full version.
$(HELM):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install -ldflags "-X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)" \
		helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/helm $(HELM)

$(GOLANGCI_LINT):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $(GOLANGCI_LINT)

$(CRD_REF_DOCS):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/elastic/crd-ref-docs@$(CRD_REF_DOCS_VERSION)
	mv $(LOCALBIN)/crd-ref-docs $(CRD_REF_DOCS)

$(KREW):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/krew/cmd/krew@$(KREW_VERSION)
	mv $(LOCALBIN)/krew $(KREW)

$(KREW_VALIDATE):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/krew/cmd/validate-krew-manifest@$(KREW_VERSION)
	mv $(LOCALBIN)/validate-krew-manifest $(KREW_VALIDATE)

$(KO):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/google/ko@$(KO_VERSION)
	mv $(LOCALBIN)/ko $(KO)

$(CYCLONEDX_GOMOD):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_GOMOD_VERSION)
	mv $(LOCALBIN)/cyclonedx-gomod $(CYCLONEDX_GOMOD)
