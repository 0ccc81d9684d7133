# permaudit's container image: a static binary on distroless, as a
# non-root user, with CA certificates (distroless/static carries them).
#
#   docker build -t permaudit --build-arg VERSION=v1.2.3 .
#   docker run --rm -v "$PWD:/work" -w /work permaudit audit -c permaudit.yaml
#
# TestDockerfile checks this file's structure; .ci/run builds it only
# where a container engine runs.

# The builder: go.mod's toolchain release (GOTOOLCHAIN in .ci/run).
FROM golang:1.26.10-bookworm AS build
ARG VERSION=devel
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/permaudit ./cmd/permaudit

# The image: no shell, no package manager; uid 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/permaudit /usr/local/bin/permaudit
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/permaudit"]
CMD ["--help"]
