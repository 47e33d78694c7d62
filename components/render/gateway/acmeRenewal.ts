/**
 * The gateway's ACME renewal (HTTP-01), rendered as one POSIX shell script that is the gateway container's command:
 * it starts nginx on a certificate it always has (a temporary self-signed one until the first issuance), asks the
 * ACME server for a certificate with lego (Debian's `lego`, a maintained client), answers the challenge through
 * nginx's port 80 (`/.well-known/acme-challenge/` from a webroot), renews at two-thirds of the lifetime and reloads
 * nginx gracefully (`SIGHUP`: old workers finish their requests). Pure: plain values in, the script out.
 *
 * The state (lego's account and certificates, the certificate served, the challenge webroot) lives on one volume
 * that every gateway replica mounts: replicas take turns through a lock file on it, one issues, all serve the new
 * certificate within `checkSeconds`. The image needs `nginx`, `lego`, `openssl`, GNU `date` and `flock`.
 */
import { isIP } from "net";
import { isDnsName } from "../../config/checks";
import { checkAcmeDirectoryUrl, checkAcmeEmail } from "../../config/tls";
import { GATEWAY_DEFAULTS, GatewayTlsFiles } from "./config";

const STATE_DIR = "/var/lib/plumberhub/acme";
/** The link to the certificate folder in use: nginx reads `tls.crt` and `tls.key` through it. */
const LIVE_DIR = `${STATE_DIR}/live`;
/** Names of the certificate chain and key inside each certificate folder. */
const LIVE_FILES = Object.freeze({ certificate: "tls.crt", key: "tls.key" });

/** Where the renewal keeps its files, inside the gateway container. */
export const ACME_PATHS = Object.freeze({
    /** The script itself; the container runs `plumberhub-acme serve`. */
    script: "/usr/local/bin/plumberhub-acme",
    /** The shared volume: lego's account and certificates, the served certificate, the webroot, the lock. */
    stateDir: STATE_DIR,
    /** Challenge files: nginx serves `/.well-known/acme-challenge/` from here on the HTTP port. */
    webroot: `${STATE_DIR}/webroot`,
    /** The certificate chain nginx serves (through the link to the folder in use). */
    certificate: `${LIVE_DIR}/${LIVE_FILES.certificate}`,
    /** Its private key. */
    key: `${LIVE_DIR}/${LIVE_FILES.key}`,
    /** The certificate's status as JSON (`notAfter`, `daysLeft` …), served at `/healthz/certificate`. */
    status: `${STATE_DIR}/status/certificate.json`,
    /** Where a CA bundle for a private ACME server is mounted. */
    caBundle: "/etc/plumberhub/acme-ca.pem",
    /** Per-container run files (the serving process's pid, the outcome of `plumberhub-acme renew`); not shared. */
    runDir: "/tmp/plumberhub-acme",
});

/** File names of the renewal's script and CA bundle among a target's configs (swarm configs, ConfigMap keys). */
export const ACME_FILE_NAMES = Object.freeze({ script: "plumberhub-acme", caBundle: "acme-ca.pem" });

/** nginx's TLS files when the renewal provides them (on its state volume), and the challenge's webroot. */
export const ACME_TLS_FILES: GatewayTlsFiles = Object.freeze({
    certificatePath: ACME_PATHS.certificate,
    keyPath: ACME_PATHS.key,
    acme: { webroot: ACME_PATHS.webroot, statusFile: ACME_PATHS.status },
});

/**
 * Checks where the gateway's certificate comes from: a certificate and key of one's own, or `acme`, exactly one of the
 * two. `fields` names them as the caller calls them.
 */
export function validateGatewayCertificateSource(
    given: { certificate: boolean; key: boolean; acme: boolean },
    fields: { certificate: string; key: string; acme: string } = { certificate: "tlsCert", key: "tlsKey", acme: "acme" },
): void {
    const pair = `\`${fields.certificate}\` and \`${fields.key}\``;
    if (given.acme && (given.certificate || given.key)) {
        throw new Error(
            `${pair} are not used with \`${fields.acme}\` (the gateway gets its certificate from the ACME server): give one or the other`,
        );
    }
    if (given.certificate !== given.key) {
        throw new Error(`${pair} go together: give both (a certificate of your own) or neither (with \`${fields.acme}\`)`);
    }
    if (!given.acme && !given.certificate) {
        throw new Error(`the gateway needs a certificate: give ${pair} (a certificate of your own) or \`${fields.acme}\` (one from an ACME server)`);
    }
}

/** Defaults of `AcmeRenewal`. */
export const ACME_RENEWAL_DEFAULTS = Object.freeze({
    checkSeconds: 60,
    retrySeconds: 3600,
    /** Wait before the first retry, seconds (doubling after each failure up to `retrySeconds`). */
    firstRetrySeconds: 30,
    /** Lifetime of the temporary self-signed certificate nginx starts on, days. */
    temporaryDays: 7,
});

/** What the renewal script needs. */
export interface AcmeRenewal {
    /** Names on the certificate, the first one names lego's files. HTTP-01 proves single names: no wildcard, no IP. */
    dnsNames: string[];
    /** ACME account contact (expiry notices). */
    email: string;
    /** ACME directory URL, https. */
    directoryUrl: string;
    /** The ACME server's certificate is checked against `ACME_PATHS.caBundle` (private ACME servers). Default false: system roots. */
    caBundle?: boolean;
    /** Seconds between two checks of the certificate (renewal due? a newer one on the volume?). Default 60. */
    checkSeconds?: number;
    /**
     * Longest wait before another attempt after failures: the first retry comes after 30 s (or this, if less), each
     * next one after twice as long, up to this (Let's Encrypt allows 5 failed validations per name and hour). Default 3600.
     */
    retrySeconds?: number;
}

/**
 * The gateway's certificate from an ACME server, renewed in the running gateway: what a target needs to deploy it
 * (the script, and the CA bundle as a file when there is one). It replaces the certificate and key secrets.
 */
export interface GatewayAcme {
    /** Names, contact, directory and timings of the renewal (`caBundle` follows `caBundlePem`). */
    renewal: Omit<AcmeRenewal, "caBundle">;
    /** PEM bundle of a private ACME server's CA (its directory's TLS certificate). Default none: system roots. */
    caBundlePem?: string;
}

/** The script of a `GatewayAcme`. */
export function renderGatewayAcmeScript(acme: GatewayAcme): string {
    return renderAcmeRenewalScript({ ...acme.renewal, caBundle: acme.caBundlePem !== undefined });
}

/** Checks the renewal settings; throws naming the field, the value and what is valid. */
export function validateAcmeRenewal(acme: AcmeRenewal, field = "acme"): void {
    if (!Array.isArray(acme.dnsNames) || acme.dnsNames.length === 0) {
        throw new Error(`\`${field}.dnsNames\` must list at least one DNS name, got ${JSON.stringify(acme.dnsNames)}`);
    }
    acme.dnsNames.forEach((name, i) => {
        if (!isDnsName(name) || isIP(name) !== 0) {
            throw new Error(
                `\`${field}.dnsNames[${i}]\` must be a lower-case DNS name (an HTTP-01 challenge proves one name: no wildcard, no IP address), got ${JSON.stringify(name)}`,
            );
        }
    });
    // Both end up in the script between single quotes: the checks admit no quote, space or `$`.
    checkAcmeEmail(acme.email, `${field}.email`);
    checkAcmeDirectoryUrl(acme.directoryUrl, `${field}.directoryUrl`);
    for (const [key, min, max] of [
        ["checkSeconds", 1, 86400],
        ["retrySeconds", 1, 7 * 86400],
    ] as const) {
        const value = acme[key];
        if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
            throw new Error(`\`${field}.${key}\` must be a whole number of seconds from ${min} to ${max}, got ${JSON.stringify(value)}`);
        }
    }
}

/** Renders `plumberhub-acme` (see the file comment). Validates first. */
export function renderAcmeRenewalScript(acme: AcmeRenewal): string {
    validateAcmeRenewal(acme);
    const p = ACME_PATHS;
    const d = ACME_RENEWAL_DEFAULTS;
    const crt = LIVE_FILES.certificate;
    const key = LIVE_FILES.key;
    const subjectAltName = acme.dnsNames.map((name) => `DNS:${name}`).join(",");
    return `#!/bin/sh
# plumberhub-acme — rendered by plumberhub (components/render/gateway/acmeRenewal.ts); re-render instead of editing.
# The gateway's certificate from an ACME server (HTTP-01, lego), renewed while nginx runs.
#   plumberhub-acme serve    nginx and the renewal loop (the container's command)
#   plumberhub-acme renew    renew now, through the running loop; prints the outcome, exit 0 when renewed
#   plumberhub-acme status   the certificate's status (JSON)
set -u
STATE='${p.stateDir}'
LIVE='${LIVE_DIR}'
WEBROOT='${p.webroot}'
STATUS='${p.status}'
RUN='${p.runDir}'
PIDFILE='${GATEWAY_DEFAULTS.pidFile}'
# This container, for temporary names on the shared volume.
ME=$(cat /proc/sys/kernel/hostname)
DOMAINS='${acme.dnsNames.join(" ")}'
# lego names its files after the first name.
FIRST='${acme.dnsNames[0]}'
EMAIL='${acme.email}'
DIRECTORY='${acme.directoryUrl}'
CHECK_SECONDS=${acme.checkSeconds ?? d.checkSeconds}
RETRY_SECONDS=${acme.retrySeconds ?? d.retrySeconds}
${acme.caBundle ? `export LEGO_CA_CERTIFICATES='${p.caBundle}'\n` : ""}
log() { echo "plumberhub-acme: $*" >&2; }

# Seconds since the epoch of a certificate's startdate or enddate: cert_date FILE startdate|enddate.
cert_date() { date -u -d "$(openssl x509 -in "$1" -noout -"$2" | cut -d= -f2)" +%s; }

# Whether a certificate folder can be served: certificate and key present, the key the certificate's, not expired.
usable() {
    [ -s "$1/${crt}" ] && [ -s "$1/${key}" ] || return 1
    [ "$(openssl x509 -in "$1/${crt}" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$1/${key}" -pubout 2>/dev/null)" ] || return 1
    openssl x509 -in "$1/${crt}" -noout -checkend 0 >/dev/null 2>&1
}

# Whether the live certificate must be replaced: none or unusable, the temporary one, two-thirds of its life gone, or
# other names or another ACME server than this container's — unless a replica newer than this one published it (an
# old replica that is going away must not order for its old settings).
renewal_due() {
    usable "$LIVE" || return 0
    [ -e "$LIVE/temporary" ] && return 0
    if [ "$(cat "$LIVE/names" 2>/dev/null)" != "$DOMAINS" ] || [ "$(cat "$LIVE/directory" 2>/dev/null)" != "$DIRECTORY" ]; then
        [ "$(stat -c %Y "$LIVE/names" 2>/dev/null || echo 0)" -lt "$STARTED" ] && return 0
        return 1
    fi
    start=$(cert_date "$LIVE/${crt}" startdate) && end=$(cert_date "$LIVE/${crt}" enddate) || return 0
    [ "$(date -u +%s)" -ge $((start + (end - start) * 2 / 3)) ]
}

# The next attempt after failures ("time wait" in $STATE/retry); 0 0 when there is none or it is unreadable.
read_retry() {
    retry_at=0 retry_wait=0
    read -r at wait_for 2>/dev/null <"$STATE/retry" || return 0
    case "$at$wait_for" in '' | *[!0-9]*) return 0 ;; esac
    retry_at=$at retry_wait=$wait_for
}

# A new certificate folder, named by time so that the newest sorts last.
new_folder() {
    folder="$(date -u +%Y%m%dT%H%M%S%N)-$1"
    mkdir -p "$STATE/certs/$folder"
}

# Points live/ at a certificate folder in one rename, so a reader sees the old pair or the new one, never a mix;
# keeps the three newest folders and never the one in use.
publish() {
    ln -sfn "certs/$1" "$STATE/live.new.$ME" && mv -T "$STATE/live.new.$ME" "$LIVE" || return 1
    for old in $(ls -1 "$STATE/certs" | sort -r | tail -n +4); do
        [ "$old" = "$1" ] || rm -rf "$STATE/certs/$old"
    done
}

# A self-signed certificate so nginx can start before the first issuance (browsers warn until then).
make_temporary() {
    new_folder temporary
    if ! (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days ${d.temporaryDays} -subj "/CN=$FIRST" \\
        -addext "subjectAltName=${subjectAltName}" -keyout "$STATE/certs/$folder/${key}" -out "$STATE/certs/$folder/${crt}" 2>"$RUN/openssl.log"); then
        cat "$RUN/openssl.log" >&2
        return 1
    fi
    chmod 644 "$STATE/certs/$folder/${crt}"
    echo "$DOMAINS" >"$STATE/certs/$folder/names"
    touch "$STATE/certs/$folder/temporary"
    publish "$folder" && log "no usable certificate: serving a temporary self-signed one until the ACME server issues one"
}

# After a failed attempt: keep what is served, wait 30 s doubling up to RETRY_SECONDS, say why.
failed() {
    read_retry
    wait_seconds=$((retry_wait * 2))
    [ "$wait_seconds" -ge ${d.firstRetrySeconds} ] || wait_seconds=${d.firstRetrySeconds}
    [ "$wait_seconds" -le "$RETRY_SECONDS" ] || wait_seconds=$RETRY_SECONDS
    echo "$(($(date -u +%s) + wait_seconds)) $wait_seconds" >"$STATE/retry.$ME" && mv -f "$STATE/retry.$ME" "$STATE/retry"
    if [ -e "$LIVE/temporary" ]; then
        kept="the temporary self-signed certificate"
        # Still failing when it is about to expire: a fresh one, so nginx keeps serving a valid (if untrusted) one.
        openssl x509 -in "$LIVE/${crt}" -noout -checkend 86400 >/dev/null || make_temporary
    else
        kept="the current certificate"
    fi
    log "renewal failed ($1): keeping $kept; next attempt in $wait_seconds s (or now: plumberhub-acme renew)"
}

# Asks the ACME server for a certificate; publishes it only when it is usable.
issue() {
    log "requesting a certificate for $DOMAINS from $DIRECTORY"
    set --
    for name in $DOMAINS; do set -- "$@" --domains "$name"; done
    if ! lego --accept-tos --email "$EMAIL" --server "$DIRECTORY" --path "$STATE/lego" --http --http.webroot "$WEBROOT" "$@" run \\
        >"$RUN/lego.log" 2>&1; then
        failed "lego said what follows"
        sed 's/^/plumberhub-acme:   lego: /' "$RUN/lego.log" >&2
        return 1
    fi
    new_folder acme
    if ! cp "$STATE/lego/certificates/$FIRST.crt" "$STATE/certs/$folder/${crt}" \\
        || ! (umask 077 && cp "$STATE/lego/certificates/$FIRST.key" "$STATE/certs/$folder/${key}") \\
        || ! usable "$STATE/certs/$folder"; then
        rm -rf "$STATE/certs/$folder"
        failed "lego's certificate and key in $STATE/lego/certificates could not be copied, or do not match"
        return 1
    fi
    chmod 644 "$STATE/certs/$folder/${crt}"
    echo "$DOMAINS" >"$STATE/certs/$folder/names"
    echo "$DIRECTORY" >"$STATE/certs/$folder/directory"
    publish "$folder" || { failed "the new certificate could not be linked as $LIVE"; return 1; }
    rm -f "$STATE/retry"
    log "issued: certificate for $DOMAINS valid until $(date -u -d @"$(cert_date "$LIVE/${crt}" enddate)" +%Y-%m-%dT%H:%M:%SZ)"
}

write_status() {
    [ -s "$LIVE/${crt}" ] || return 0
    end=$(cert_date "$LIVE/${crt}" enddate) && start=$(cert_date "$LIVE/${crt}" startdate) || return 0
    temporary=false
    [ -e "$LIVE/temporary" ] && temporary=true
    now=$(date -u +%s)
    mkdir -p "$(dirname "$STATUS")"
    printf '{"notAfter":"%s","daysLeft":%d,"renewAfter":"%s","temporary":%s,"checkedAt":"%s"}\\n' \\
        "$(date -u -d @"$end" +%Y-%m-%dT%H:%M:%SZ)" $(((end - now) / 86400)) \\
        "$(date -u -d @$((start + (end - start) * 2 / 3)) +%Y-%m-%dT%H:%M:%SZ)" "$temporary" \\
        "$(date -u -d @"$now" +%Y-%m-%dT%H:%M:%SZ)" >"$STATUS.$ME" && mv -f "$STATUS.$ME" "$STATUS"
}

# One turn of the loop: renew when due (or asked to), then serve the newest certificate on the volume.
# (Functions share the loop's variables: this one takes the request as $1 and sets only its own names.)
check() {
    outcome=0
    if [ "$1" = 1 ] || renewal_due; then
        (
            # One replica at a time; one that waited re-checks, since the other may have renewed meanwhile.
            flock -w 600 9 || { log "the lock $STATE/lock was held for 10 minutes; trying again later"; exit 1; }
            read_retry
            if [ "$1" = 1 ]; then issue
            elif renewal_due && [ "$(date -u +%s)" -ge "$retry_at" ]; then issue
            fi
        ) 9>"$STATE/lock"
        outcome=$?
    fi
    live=$(readlink "$LIVE")
    # nginx -t reads the certificate and key: a pair it would refuse is not reloaded, and retried next turn.
    if [ "$live" != "$loaded" ] && usable "$LIVE" && nginx -t -q 2>"$RUN/nginx-t.log"; then
        kill -HUP "$NGINX" && loaded=$live && log "nginx reloaded with $live"
    fi
    write_status
    return $outcome
}

renewal_loop() {
    trap 'forced=1' USR1
    trap 'exit 0' TERM
    forced=0
    loaded=$(readlink "$LIVE")
    write_status
    while :; do
        # \`renew\` leaves its request in a file, then wakes the loop; a signal lost at start-up only delays it a turn.
        forced=0
        request=$(cat "$RUN/request" 2>/dev/null)
        if [ -n "$request" ]; then
            rm -f "$RUN/request"
            if check 1; then result=renewed; else result=failed; fi
            echo "$request $result" >"$RUN/result.tmp" && mv -f "$RUN/result.tmp" "$RUN/result"
        else
            check 0
        fi
        # A request that came during the check is served now, not after the pause.
        [ "$forced" = 1 ] || [ -s "$RUN/request" ] && continue
        # Until the next check, or the next attempt after a failure when that comes first.
        pause=$CHECK_SECONDS
        read_retry
        until_retry=$((retry_at - $(date -u +%s)))
        if [ "$until_retry" -gt 0 ] && [ "$until_retry" -lt "$pause" ]; then pause=$until_retry; fi
        sleep "$pause" &
        wait $! || kill $! 2>/dev/null
    done
}

# A stop signal: the loop first (a replica going away orders nothing more), then nginx (QUIT: graceful, TERM: fast).
stop() {
    kill -TERM "$LOOP" 2>/dev/null
    kill "-$1" "$NGINX" 2>/dev/null
}

serve() {
    NGINX='' LOOP=''
    trap 'stop QUIT' QUIT
    trap 'stop TERM' TERM INT
    # Ignored until the loop exists (it sets its own trap; a request left meanwhile waits in its file).
    trap '' USR1
    for tool in nginx lego openssl flock; do
        command -v "$tool" >/dev/null || { log "\\\`$tool\\\` is not in this image: the gateway image needs nginx, lego, openssl, GNU date and flock"; exit 1; }
    done
    STARTED=$(date -u +%s)
    mkdir -p "$STATE/certs" "$WEBROOT" "$RUN" || exit 1
    echo $$ >"$RUN/serve.pid"
    usable "$LIVE" || ( flock -w 600 9; usable "$LIVE" || make_temporary ) 9>"$STATE/lock" || exit 1
    rm -f "$PIDFILE"
    nginx -g 'daemon off;' &
    NGINX=$!
    # nginx writes its pid file once it listens: the challenge can be answered from then on.
    tries=0
    until [ -s "$PIDFILE" ] || [ $tries -ge 100 ]; do tries=$((tries + 1)); sleep 0.1; done
    renewal_loop &
    LOOP=$!
    trap 'kill -USR1 "$LOOP" 2>/dev/null' USR1
    while :; do
        wait "$NGINX"
        status=$?
        kill -0 "$NGINX" 2>/dev/null || break
    done
    kill -TERM "$LOOP" 2>/dev/null
    exit "$status"
}

renew() {
    pid=$(cat "$RUN/serve.pid" 2>/dev/null)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "plumberhub-acme: no running gateway to ask (run this inside the gateway container)" >&2
        exit 2
    fi
    request="$(date -u +%s%N)-$$"
    echo "$request" >"$RUN/request.$$" && mv -f "$RUN/request.$$" "$RUN/request"
    kill -USR1 "$pid"
    tries=0
    until [ "$(cut -d' ' -f1 "$RUN/result" 2>/dev/null)" = "$request" ]; do
        tries=$((tries + 1))
        [ $tries -le 600 ] || { echo "plumberhub-acme: no outcome after 600 s; see the container's log" >&2; exit 1; }
        sleep 1
    done
    result=$(cut -d' ' -f2 "$RUN/result")
    echo "plumberhub-acme: $result (the container's log says more)"
    [ "$result" = renewed ]
}

case "\${1:-serve}" in
serve) serve ;;
renew) renew ;;
status) cat "$STATUS" ;;
*)
    echo "usage: plumberhub-acme serve|renew|status" >&2
    exit 2
    ;;
esac
`;
}
