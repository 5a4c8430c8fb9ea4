#!/bin/sh
# Roll out an overlay with its migrations first, for clusters without Argo CD (which runs the
# Jobs itself: they carry argocd.argoproj.io/hook: PreSync). kustomize cannot order objects,
# so this does: apply the dependencies and config, run each service's migration Job to the
# end, then apply everything, so no pod of the new version starts on an old schema.
#
#   deploy/k8s/rollout.sh prod
set -eu
overlay="${1:?usage: $0 dev|prod}"
here=$(cd "$(dirname "$0")" && pwd)
kubectl="${KUBECTL:-kubectl}"
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
"$kubectl" kustomize "$here/overlays/$overlay" > "$rendered"

# Namespace, config, the broker and (dev) the database first; Deployments wait.
"$kubectl" apply -f "$rendered" --selector 'app.kubernetes.io/component notin (api,worker,issuer,migrate)'
# A Job is immutable: the previous run is replaced by this version's.
"$kubectl" -n pactra delete job --selector app.kubernetes.io/component=migrate --ignore-not-found --wait
"$kubectl" apply -f "$rendered" --selector app.kubernetes.io/component=migrate
"$kubectl" -n pactra wait --for=condition=complete job --selector app.kubernetes.io/component=migrate \
    --timeout="${MIGRATION_TIMEOUT:-15m}"
"$kubectl" apply -f "$rendered"
"$kubectl" -n pactra rollout status deployment --selector app.kubernetes.io/part-of=pactra --timeout=10m
