# syntax=docker/dockerfile:1
#
# Backprop: the HTTP JSON service in a small image.
#
#   docker build -t backprop .
#   docker run --rm -p 8080:8080 backprop
#
# Two stages on the same distribution (Debian 12 "bookworm"), so that the binary is run
# against the glibc and libstdc++ it was linked against:
#   build    the official Swift image; a release build with the Swift standard library and
#            Foundation linked statically;
#   runtime  debian:bookworm-slim with the few shared libraries the binary still needs.
#
# The binary's dynamic dependencies (`ldd backprop` on a --static-swift-stdlib build) are
# only libc, libm, libstdc++ and libgcc_s: no libcurl, libxml2, libssl or zlib, because the
# service links neither FoundationNetworking nor FoundationXML nor any TLS library.
# libc/libm are in every Debian image; libstdc++6 (which pulls in libgcc-s1) is installed
# explicitly rather than relied on as a dependency of apt.

ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

WORKDIR /build

# Dependencies first, so that this layer is reused until the manifest changes.
# Package.resolved is .gitignored and so may be missing from the build context: the glob
# copies it when it is there, and then exactly its pinned versions are used.
COPY Package.* ./
RUN if [ -f Package.resolved ]; then \
        swift package resolve --force-resolved-versions; \
    else \
        swift package resolve; \
    fi

# Tests/ and Benchmarks/ are needed as well: the manifest declares their targets (with the
# custom paths Tests/BackpropTestSupport and Benchmarks/Swift), and SwiftPM will not load a
# package whose target folders are missing, even to build a single product.
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks

RUN swift build -c release --static-swift-stdlib --product backprop

# Stage what the runtime needs: the binary, SwiftPM's resource bundle for BackpropServer
# (openapi.yaml and the playground; the server looks for it next to the executable, and
# answers 404/503 for those routes without it), and the statically linked crash
# backtracer. The backtracer is found from the toolchain (`swift` may be a symlink into
# /opt/swift/...), not from a fixed /usr path.
WORKDIR /staging
RUN bin_path="$(swift build --package-path /build -c release --show-bin-path)" \
    && cp "$bin_path/backprop" ./ \
    && cp -R "$bin_path/backprop_BackpropServer.resources" ./ \
    && cp "$(dirname "$(readlink -f "$(command -v swift)")")/../libexec/swift/linux/swift-backtrace-static" ./ \
    && chmod -R a+rX .

# ---------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}

# tzdata for Foundation's TimeZone, ca-certificates for any outbound TLS, libstdc++6
# (and with it libgcc-s1) for the binary itself; see the ldd note at the top.
# Versions are not pinned: each build takes the distribution's current security fixes.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends \
        ca-certificates \
        libstdc++6 \
        tzdata \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a fixed numeric id, so that USER below is numeric and
# Kubernetes' runAsNonRoot can verify it. The files in /app stay owned by root: the
# service only reads them and writes nothing to disk.
RUN groupadd --gid 10001 backprop \
    && useradd --uid 10001 --gid backprop --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin backprop

WORKDIR /app
COPY --from=build /staging/ /app/

USER 10001:10001

# The executable reads BACKPROP_* variables (a command-line flag wins over a variable).
# SWIFT_BACKTRACE: a statically linked binary cannot find the backtracer next to
# libswiftCore.so, so it is pointed at the copy in /app.
ENV BACKPROP_HOST=0.0.0.0 \
    BACKPROP_PORT=8080 \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

EXPOSE 8080

# The image has no curl or wget, so the health check speaks HTTP/1.1 over bash's
# /dev/tcp (bash is part of every Debian image). It passes only when GET /health answers
# with status 200. It follows BACKPROP_PORT; if the port is changed with --port instead,
# or BACKPROP_HOST is set to an address other than 0.0.0.0 or 127.0.0.1, change it too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${BACKPROP_PORT:-8080} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q '^HTTP/1\\.[01] 200 '"]

# Exec form: the service is PID 1 and receives SIGTERM itself; it shuts down gracefully.
ENTRYPOINT ["./backprop"]
