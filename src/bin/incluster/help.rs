//! The help texts: `incluster --help` and `incluster VERB --help`.

/// The output options of a verb that prints one JSON answer.
macro_rules! output_help {
    () => {
        "
Output: the answer as JSON (-o json, the default), or
  -o jsonpath=TEMPLATE  kubectl-style JSONPath, as one argument: -o jsonpath='{.metadata.name}'
                        ({range .items[*]}{.metadata.name}{\"\\n\"}{end} for a list)
  -o name               kind/name as kubectl prints it (pod/web, deployment.apps/web; one line
                        per item of a list; after a DELETE, the object the Status names:
                        configmaps/web); an error for an answer that names no object
  --pointer /a/b        one value by JSON Pointer (strings as they are; exit 1 if absent)"
    };
}

/// The output options of `info` and `whoami`, whose answers are not Kubernetes objects.
macro_rules! value_output_help {
    ($example:literal) => {
        concat!(
            "
Output: indented JSON (the default), or
  -o jsonpath=TEMPLATE  kubectl-style JSONPath, as one argument: -o jsonpath='",
            $example,
            "'
  --pointer /a/b        one value by JSON Pointer (strings as they are; exit 1 if absent)"
        )
    };
}

const HELP: &str = "\
incluster - talk to the Kubernetes API server from inside a pod

Usage:
  incluster get PATH|TYPE[/NAME]|TYPE NAME [-l SELECTOR] [-A] [--param KEY=VALUE]...
  incluster delete PATH|TYPE/NAME|TYPE NAME|TYPE -l SELECTOR
  incluster apply -f FILE|- [--field-manager M] [--force-conflicts]
  incluster request METHOD PATH [--param KEY=VALUE]... [--data @FILE|@-|-|TEXT] [--content-type T]
  incluster patch PATH --data @FILE|@-|-|TEXT [--type merge|json|strategic|apply]
                  [--field-manager M] [--force]
  incluster info
  incluster whoami
  incluster can-i VERB RESOURCE [--name NAME] [--subresource S]
  incluster watch PATH|TYPE[/NAME] [-A] [-l SELECTOR] [--field-selector S] [--since RV] [--bookmarks]
  incluster logs POD [-c C] [-f] [--tail N] [--since 5m] [--since-time T] [--timestamps]
                 [--previous] [--limit-bytes N] [-n NS]
  incluster wait PATH|TYPE[/NAME] [-l SELECTOR] --for COND [--for-any COND]... [--fail-on COND]...
                 [--timeout 30s]
  incluster lease run NAME [--identity ID] [--duration 15s] [--renew-deadline 10s]
                  [--retry-period 2s] [--grace-period 10s] [--wait-timeout D] -- CMD [ARGS...]
  incluster lease status NAME
  incluster exec POD [-c C] [-i] [-t] [-n NS] -- CMD [ARGS]...
  incluster attach POD [-c C] [-i] [-t] [-n NS]
  incluster port-forward POD [LOCAL:]REMOTE... [-n NS]
  incluster --version

Connection options (any verb):
  --server URL                 API server URL (default: in-cluster discovery from
                               KUBERNETES_SERVICE_HOST/PORT, else the kubeconfig:
                               $KUBECONFIG, else ~/.kube/config). An https:// server keeps
                               the pod's token, CA and namespace unless overridden; with
                               no token at all it fails (never anonymous by surprise).
                               http://127.0.0.1:8001 is the kubectl proxy route
  --kubeconfig FILE            use this kubeconfig (not the pod's ServiceAccount)
  --context NAME               the kubeconfig context (default: its current-context)
  --serviceaccount-dir DIR     ServiceAccount files (default $INCLUSTER_SERVICEACCOUNT_DIR or
                               /var/run/secrets/kubernetes.io/serviceaccount)
  --token-file FILE            bearer token file (re-read when it changes)
  --ca-file FILE               CA bundle to trust (PEM)
  -n, --namespace NS           default namespace
  --timeout SECONDS            whole-request timeout (default 60)
  --insecure-skip-tls-verify   DANGER: do not check the server's certificate

Resources by name, wherever a PATH is taken (get, delete, watch, wait): kubectl's forms
  pods, po, pod/web-0, pod web-0, deploy/web, deployments.apps/web, jobs.batch,
  deployments.v1.apps, a CRD's plural, singular, short name or Kind; in -n NS (default: the
  client's namespace), or across all namespaces with -A. A PATH starts with '/'.

Output (get, delete, request, patch, info, whoami, watch, wait): the answer as JSON on
stdout (-o json, the default), or
  -o jsonpath=TEMPLATE   kubectl-style JSONPath ({.status.phase}, {range .items[*]}...{end})
  -o name                kind/name of the object (or of each item of a list)
  --pointer /a/b         one value by JSON Pointer (strings as they are; exit 1 if absent)
  On watch they apply to each event as printed: {\"type\":...,\"object\":{...}}.
Errors on stderr.
Exit codes: 0 ok, 1 other error (and can-i's no), 2 usage, 3 configuration,
            4 TLS/transport/timeout, 5 HTTP 4xx, 6 HTTP 5xx; wait: 7 timed out,
            8 the condition can no longer be met; lease run: 10 leadership lost,
            11 --wait-timeout ran out (else its command's code).
Run `incluster VERB --help` for a verb's details.";

const HELP_GET: &str = concat!(
    "\
incluster get PATH|TYPE[/NAME]|TYPE NAME [-l SELECTOR] [-A] [--param KEY=VALUE]...
              [-o FORMAT | --pointer /a/b]

GET an API path, or a resource by name (pods, pod/web-0, pod web-0, deploy/web, jobs.batch,
a CRD's plural, singular, short name or Kind), and print the body. An unknown name is a usage
error listing the close matches (exit 2), not a 404.
  -n NS                 namespace of a namespaced resource (default: the client's)
  -A, --all-namespaces  the collection across all namespaces
  -l, --selector S      labelSelector of a collection
  --param KEY=VALUE     query parameter (repeatable; values are percent-encoded)
",
    output_help!(),
    "

Examples:
  incluster get pods -l app=web -o name
  incluster get deploy/web -o jsonpath='{.status.readyReplicas}'
  incluster get /api/v1/namespaces/$NS/pods --param labelSelector=app=web -o name
  incluster get /api/v1/namespaces/$NS/pods/web -o jsonpath='{.status.phase}'"
);

const HELP_REQUEST: &str = concat!(
    "\
incluster request METHOD PATH [--param KEY=VALUE]... [--data @FILE|@-|-|TEXT] [--content-type T]
                              [-o FORMAT | --pointer /a/b]

Any request: GET, POST, PUT, PATCH, DELETE, ...
  --param KEY=VALUE     query parameter (repeatable)
  --data D              body: @FILE reads a file, - or @- reads stdin, anything else is sent as is
  --content-type T      body type (default application/json; for PATCH use
                        application/merge-patch+json, application/json-patch+json,
                        application/strategic-merge-patch+json or application/apply-patch+yaml,
                        or `incluster patch`, which picks it)
",
    output_help!(),
    "

Examples:
  incluster request POST /api/v1/namespaces/$NS/configmaps --data @cm.json -o name
  incluster request DELETE /api/v1/namespaces/$NS/configmaps/cm -o name"
);

const HELP_PATCH: &str = concat!(
    "\
incluster patch PATH --data @FILE|@-|-|TEXT [--type merge|json|strategic|apply]
                [--field-manager M] [--force] [--param KEY=VALUE]... [-o FORMAT | --pointer /a/b]

PATCH an object, like kubectl patch: a JSON merge patch unless --type says otherwise.
  --data D              the patch: @FILE reads a file, - or @- reads stdin, anything else is
                        sent as is
  --type T              merge (RFC 7386, the default), json (RFC 6902 operations), strategic
                        (strategic merge patch, built-in types only) or apply (server-side
                        apply; the body is the object as you want it)
  --field-manager M     the manager recorded in managedFields (apply: default incluster)
  --force               apply only: take over fields other managers own
  --param KEY=VALUE     query parameter (repeatable; dryRun=All, ...)
",
    output_help!(),
    "

Examples:
  incluster patch /api/v1/namespaces/$NS/configmaps/cm --data '{\"data\":{\"k\":\"v\"}}'
  incluster patch /apis/apps/v1/namespaces/$NS/deployments/web --type json \\
      --data '[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]'
  incluster patch /api/v1/namespaces/$NS/configmaps/cm --type apply --field-manager ci \\
      --data @cm.json"
);

const HELP_INFO: &str = concat!(
    "\
incluster info [-o jsonpath=TEMPLATE | --pointer /a/b]

Print, as JSON, where the settings came from (source: in-cluster, or the kubeconfig files and
context), the server, the namespace, the identity and expiry decoded from the token's claims
(never the token) and the CA certificates' subjects and validity. Reads local files only.
",
    value_output_help!("{.token.expiresAt}"),
    "

Example:
  NS=$(incluster info --pointer /namespace)"
);

const HELP_WHOAMI: &str = concat!(
    "\
incluster whoami [-o jsonpath=TEMPLATE | --pointer /a/b]

Print, as JSON, who the server says you are (SelfSubjectReview: username, uid, groups),
with the token's decoded claims. On a server without that API the identity comes from the
token's claims (\"source\": \"token claims\").
",
    value_output_help!("{.username}"),
    "

Example:
  incluster whoami --pointer /username"
);

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
                     [--no-resume] [--param KEY=VALUE]... [-o FORMAT | --pointer /a/b]

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

Output: -o and --pointer apply to each event as printed ({\"type\":...,\"object\":{...}}),
one line per event:
  -o jsonpath=TEMPLATE  e.g. -o jsonpath='{.type} {.object.metadata.name}'
  -o name               the type and kind/name: ADDED configmap/x, DELETED configmap/x (the
                        type alone for BOOKMARK, RESYNC_START and RESYNC_END)
  --pointer /a/b        e.g. --pointer /object/metadata/name; an event without a value there
                        is skipped
The watch ends at once when the reader of stdout goes away (`| head -2`), exit 0.

Examples:
  incluster watch /api/v1/namespaces/$NS/configmaps -l app=web
  incluster watch /api/v1/namespaces/$NS/pods -o name | while read -r type pod; do ...; done";

const HELP_LOGS: &str = "\
incluster logs POD [-c CONTAINER] [-f] [--tail N] [--since DURATION] [--since-time TIME]
               [--timestamps] [--previous] [--limit-bytes N] [--no-resume] [-n NS]

Print a pod's log, like kubectl logs. With -f the log is followed, and a stream that ends or
breaks while the container still runs is resumed from the last line's timestamp without
losing or repeating a line (--no-resume: stop instead). The follow ends when the container
terminates. Ctrl-C, or the reader of stdout going away (`| head`), ends it cleanly (exit 0).
  -c, --container C     the container (needed when the pod has several)
  -f, --follow          keep printing new lines
  --tail N              the last N lines
  --since DURATION      only lines newer than this (5s, 2m, 3h)
  --since-time TIME     only lines at or after this RFC 3339 time
  --timestamps          prefix each line with its timestamp
  --previous            the previous, terminated instance of the container
  --limit-bytes N       stop after N bytes";

const HELP_LEASE: &str = "\
incluster lease run NAME [-n NS] [--identity ID] [--duration 15s] [--renew-deadline 10s]
                [--retry-period 2s] [--grace-period 10s] [--wait-timeout D] -- CMD [ARGS...]
incluster lease status NAME [-n NS] [-o FORMAT | --pointer /a/b]

run: leader election on the Lease NAME (coordination.k8s.io/v1, client-go's algorithm, so it
contends with Go controllers too). CMD runs only while this process leads:
  - it waits until it leads (or --wait-timeout passes: exit 11, CMD never ran);
  - when leadership is lost (no renewal within --renew-deadline, or taken over), CMD gets
    SIGTERM, then SIGKILL after --grace-period, and incluster exits 10;
  - when CMD exits, the Lease is released (so another contender takes over at its next try)
    and CMD's exit code is passed through (128+N if signal N ended it);
  - SIGTERM/SIGINT to incluster are passed to CMD first, then the Lease is released.
Leadership changes are printed on stderr with timestamps.
  --identity ID          this contender's name in the Lease (default: hostname_RANDOM)
  --duration D           leaseDurationSeconds: how long others wait for a silent leader (15s)
  --renew-deadline D     how long the leader keeps trying to renew before it stops (10s)
  --retry-period D       how often to try to acquire or renew (2s)
  --grace-period D       SIGTERM to SIGKILL when leadership is lost (10s)
  --wait-timeout D       give up waiting for leadership after D (default: wait forever)
  Durations: 15s, 500ms, 1m, or seconds. Required: duration > renew deadline > 1.2 x retry period.

status: the Lease's holder, how long ago it was renewed (by this clock), and its transitions,
as JSON.

Exit codes (run): CMD's own; 10 leadership lost; 11 --wait-timeout ran out; 127 CMD could not
be started; else as for every verb (2 usage, 5 HTTP 4xx such as 403 without RBAC on leases).

Example:
  incluster lease run my-job --duration 15s -- ./reconcile --once";

/// The help text for `verb` (the overview for an unknown or empty verb).
pub fn for_verb(verb: &str) -> &'static str {
    match verb {
        "get" => HELP_GET,
        "delete" => crate::delete::HELP,
        "apply" => crate::apply::HELP,
        "request" => HELP_REQUEST,
        "patch" => HELP_PATCH,
        "info" => HELP_INFO,
        "whoami" => HELP_WHOAMI,
        "can-i" => HELP_CAN_I,
        "watch" => HELP_WATCH,
        "logs" => HELP_LOGS,
        "wait" => crate::wait::HELP,
        "lease" => HELP_LEASE,
        "exec" => HELP_EXEC,
        "attach" => HELP_ATTACH,
        "port-forward" => HELP_PORT_FORWARD,
        _ => HELP,
    }
}

const HELP_EXEC: &str = "\
incluster exec POD [-c CONTAINER] [-i] [-t] [-n NS] -- CMD [ARGS]...

Run a command in a container, like kubectl exec: its stdout and stderr come out on ours, kept
apart, and incluster exits with the command's exit code. Over a WebSocket
(v5.channel.k8s.io, or v4 on an old server), with the pod's token, CA and proxy rules.

  -c, --container C   the container (default: the pod's default container)
  -i, --stdin         pass our stdin to the command; our end of file closes its stdin
                      (needs v5.channel.k8s.io, Kubernetes 1.30+)
  -t, --tty           a terminal: stderr is merged into stdout; with a terminal of our own,
                      it is put in raw mode and its size follows ours

RBAC: since Kubernetes 1.35 exec over WebSocket needs `create` on `pods/exec`.
";

const HELP_ATTACH: &str = "\
incluster attach POD [-c CONTAINER] [-i] [-t] [-n NS]

Attach to a container's main process, like kubectl attach: its output on ours; with -i our
stdin goes to it (the container must have stdin open). RBAC: `create` on `pods/attach`.
";

const HELP_PORT_FORWARD: &str = "\
incluster port-forward POD [LOCAL:]REMOTE... [-n NS]

Listen on 127.0.0.1:LOCAL and forward each connection to port REMOTE of the pod, like
kubectl port-forward (8080 means 8080:8080; :80 or 0:80 picks a free local port). Prints
\"Forwarding from 127.0.0.1:LOCAL -> REMOTE\" per port, then runs until interrupted.
Each connection is its own WebSocket (the kubelet's port-forward protocol,
v4.channel.k8s.io). RBAC: `create` on `pods/portforward`.
";
