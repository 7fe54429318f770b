"""The smallest useful in-cluster Python program: discover the pod's configuration, read the
server version, list the namespace's ConfigMaps, and watch them for a moment."""

import incluster

kube = incluster.Client()
print("server", kube.get("/version")["gitVersion"], "as", kube.whoami()["username"])
path = f"/api/v1/namespaces/{kube.namespace}/configmaps"
for cm in kube.get(path)["items"]:
    print("configmap", cm["metadata"]["name"], cm.get("data", {}))
print("may I delete configmaps?", kube.can_i("delete", "configmaps"))
with kube.watch(path, timeout_seconds=1, resume=False) as events:
    for ev in events:
        print("watch", ev.type, ev.object["metadata"]["name"])
