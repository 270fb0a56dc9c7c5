# kite-server image: built from the same dependency list as the README and CI.
FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN KITE_DEPS_GROUPS="build run" bash packaging/dev.sh build

FROM debian:bookworm
COPY packaging/deps.txt /tmp/deps.txt
RUN apt-get update && apt-get install -y --no-install-recommends \
      $(awk '$1=="run"{print $2}' /tmp/deps.txt) && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/bin/kite-server /usr/local/bin/kite-server
VOLUME /var/lib/kite
EXPOSE 2379 2381
ENTRYPOINT ["kite-server", "--etcd-listen=0.0.0.0:2379", "--metrics-listen=0.0.0.0:2381"]
