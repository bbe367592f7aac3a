# Build the manager binary.
FROM golang:1.26 AS builder
# Set by `docker buildx build --platform`; a plain `docker build` leaves them
# empty and builds for linux on the builder's architecture.
ARG TARGETOS
ARG TARGETARCH
# The release, shown in the manager's start-up log (make docker-build sets it).
ARG VERSION=dev

WORKDIR /workspace
# Copy the Go module manifests and download the dependencies first, so that
# this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

# Copy the Go sources. .dockerignore lets in only go.mod, go.sum and the
# non-test .go files of the module (cmd/, api/, internal/, controllers/).
COPY . .

# CGO off: the binary is static and runs on distroless/static.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o manager ./cmd

# Use distroless as a minimal base image to package the manager binary.
# Refer to https://github.com/GoogleContainerTools/distroless for more details.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
