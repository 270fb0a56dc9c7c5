# kite's container image, as k3s's: kite-server with its embedded agent (a one-node cluster, or a
# server others join) in a privileged container. Built from the repo alone:
#   buildah bud -t kite .        (or docker build / podman build)
#   podman run -d --privileged -p 6443:6443 kite
# The runtime stage is made by the offline bundle's own install.sh (packaging/bundle/), so the
# image holds exactly what a bundle installs: the binaries, the pause, kite-dns and kite-ingress image archives
# under /var/lib/kite/agent/images/, kite-killall.sh and kite-uninstall.sh.
# BASE: any Debian bookworm image; tests/e2e/container_image.sh passes one made offline with
# debootstrap. Build-time ccache: mount a cache at /ccache (buildah bud -v DIR:/ccache).
ARG BASE=debian:bookworm
FROM ${BASE} AS build
WORKDIR /src
COPY . .
ENV CCACHE_DIR=/ccache CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=true
RUN KITE_DEPS_GROUPS="build run" bash packaging/dev.sh deps && \
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && \
    ninja -C build kite-server kite-agent kite-cni kite-images && \
    bash packaging/bundle/bundle.sh --out /out && \
    mkdir /bundle && tar -C /bundle --strip-components=1 -xzf /out/kite-bundle-*.tar.gz

FROM ${BASE}
COPY packaging/deps.txt /tmp/deps.txt
RUN apt-get update && apt-get install -y --no-install-recommends \
      $(awk '$1=="run"{print $2}' /tmp/deps.txt) iproute2 ca-certificates && \
    rm -rf /var/lib/apt/lists/* /tmp/deps.txt
COPY --from=build /bundle /tmp/bundle
# No systemd in the image: install.sh writes its files and starts nothing; the checks look at
# the build machine, not where the image runs.
RUN INSTALL_KITE_SKIP_CHECKS=true sh /tmp/bundle/install.sh && rm -rf /tmp/bundle
VOLUME /var/lib/kite
EXPOSE 6443 2379 2381 10250
ENTRYPOINT ["/usr/local/bin/kite-server"]
CMD ["--etcd-listen=0.0.0.0:2379", "--metrics-listen=0.0.0.0:2381"]
