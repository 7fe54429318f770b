//! The help texts: `incluster --help` and `incluster VERB --help`.

const HELP: &str = "\
incluster - talk to the Kubernetes API server from inside a pod

Usage:
  incluster get PATH [--param KEY=VALUE]...
  incluster request METHOD PATH [--param KEY=VALUE]... [--data @FILE|@-|-|TEXT] [--content-type T]
  incluster info
  incluster whoami
  incluster can-i VERB RESOURCE [--name NAME] [--subresource S]
  incluster watch PATH [-l SELECTOR] [--field-selector S] [--since RV] [--bookmarks]
  incluster logs POD [-c C] [-f] [--tail N] [--since 5m] [--since-time T] [--timestamps]
                 [--previous] [--limit-bytes N] [-n NS]
  incluster --version

Connection options (any verb):
  --server URL                 API server URL (default: in-cluster discovery from
                               KUBERNETES_SERVICE_HOST/PORT)
  --serviceaccount-dir DIR     ServiceAccount files (default $INCLUSTER_SERVICEACCOUNT_DIR or
                               /var/run/secrets/kubernetes.io/serviceaccount)
  --token-file FILE            bearer token file (re-read when it changes)
  --ca-file FILE               CA bundle to trust (PEM)
  -n, --namespace NS           default namespace
  --timeout SECONDS            whole-request timeout (default 60)
  --insecure-skip-tls-verify   DANGER: do not check the server's certificate

Output (get, request, watch): the response body on stdout (-o json, the default), or
  -o jsonpath=TEMPLATE   kubectl-style JSONPath ({.status.phase}, {range .items[*]}...{end})
  -o name                kind/name of the object (or of each item of a list)
  --pointer /a/b         one value by JSON Pointer (strings as they are; exit 1 if absent)
Errors on stderr.
Exit codes: 0 ok, 1 other error (and can-i's no), 2 usage, 3 configuration,
            4 TLS/transport/timeout, 5 HTTP 4xx, 6 HTTP 5xx.
Run `incluster VERB --help` for a verb's details.";

const HELP_GET: &str = "\
incluster get PATH [--param KEY=VALUE]...

GET an API path and print the body.
  --param KEY=VALUE   query parameter (repeatable; values are percent-encoded)

Example:
  incluster get /api/v1/namespaces/default/pods --param labelSelector=app=web";

const HELP_REQUEST: &str = "\
incluster request METHOD PATH [--param KEY=VALUE]... [--data @FILE|@-|-|TEXT] [--content-type T]

Any request: GET, POST, PUT, PATCH, DELETE, ...
  --param KEY=VALUE   query parameter (repeatable)
  --data D            body: @FILE reads a file, - or @- reads stdin, anything else is sent as is
  --content-type T    body type (default application/json; for PATCH use
                      application/merge-patch+json, application/json-patch+json,
                      application/strategic-merge-patch+json or application/apply-patch+yaml)

Example:
  incluster request POST /api/v1/namespaces/default/configmaps --data @cm.json";

const HELP_INFO: &str = "\
incluster info

Print, as JSON, the server, the namespace, the identity and expiry decoded from the token's
claims (never the token) and the CA certificates' subjects and validity. Reads local files only.";

const HELP_WHOAMI: &str = "\
incluster whoami

Print, as JSON, who the server says you are (SelfSubjectReview: username, uid, groups),
with the token's decoded claims. On a server without that API the identity comes from the
token's claims (\"source\": \"token claims\").";

const HELP_CAN_I: &str = "\
incluster can-i VERB RESOURCE [--name NAME] [--subresource S] [-n NS]

Ask the server whether you may do VERB on RESOURCE (SelfSubjectAccessReview), like
`kubectl auth can-i`. Prints yes or no; exits 0 for yes and 1 for no.
  RESOURCE          pods, deployments.apps (RESOURCE.GROUP), or a URL path like /healthz
  -n NS             namespace (default: the client's namespace; \"\" for cluster-wide)
  --name NAME       one object
  --subresource S   log, status, exec, ...

Example:
  incluster can-i create configmaps && echo allowed";

const HELP_WATCH: &str = "\
incluster watch PATH [-l SELECTOR] [--field-selector S] [--since RV] [--bookmarks]
                     [--no-resume] [--param KEY=VALUE]...

Watch a collection and print one JSON event per line: {\"type\":\"ADDED\",\"object\":{...}}.
The watch resumes from the last resourceVersion when the stream ends or breaks, and relists on
410 Gone (the differences arrive between RESYNC_START and RESYNC_END events). Ctrl-C ends it
cleanly (exit 0).
  -l, --selector S      labelSelector
  --field-selector S    fieldSelector
  --since RV            start after this resourceVersion (default: the current state first)
  --bookmarks           print BOOKMARK events too
  --no-resume           stop when the server ends the stream
  --param KEY=VALUE     any other watch option or query parameter (incluster.onGone=error, ...)

Example:
  incluster watch /api/v1/namespaces/default/configmaps -l app=web";

const HELP_LOGS: &str = "\
incluster logs POD [-c CONTAINER] [-f] [--tail N] [--since DURATION] [--since-time TIME]
               [--timestamps] [--previous] [--limit-bytes N] [--no-resume] [-n NS]

Print a pod's log, like kubectl logs. With -f the log is followed, and a stream that ends or
breaks while the container still runs is resumed from the last line's timestamp without
losing or repeating a line (--no-resume: stop instead). The follow ends when the container
terminates. Ctrl-C ends it cleanly (exit 0).
  -c, --container C     the container (needed when the pod has several)
  -f, --follow          keep printing new lines
  --tail N              the last N lines
  --since DURATION      only lines newer than this (5s, 2m, 3h)
  --since-time TIME     only lines at or after this RFC 3339 time
  --timestamps          prefix each line with its timestamp
  --previous            the previous, terminated instance of the container
  --limit-bytes N       stop after N bytes";

/// The help text for `verb` (the overview for an unknown or empty verb).
pub fn for_verb(verb: &str) -> &'static str {
    match verb {
        "get" => HELP_GET,
        "request" => HELP_REQUEST,
        "info" => HELP_INFO,
        "whoami" => HELP_WHOAMI,
        "can-i" => HELP_CAN_I,
        "watch" => HELP_WATCH,
        "logs" => HELP_LOGS,
        _ => HELP,
    }
}
