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

/** Where the renewal keeps its files, inside the gateway container. */
export const ACME_PATHS = Object.freeze({
    /** The script itself; the container runs `plumberhub-acme serve`. */
    script: "/usr/local/bin/plumberhub-acme",
    /** The shared volume: lego's account and certificates, the served certificate, the webroot, the lock. */
    stateDir: "/var/lib/plumberhub/acme",
    /** Challenge files: nginx serves `/.well-known/acme-challenge/` from here on the HTTP port. */
    webroot: "/var/lib/plumberhub/acme/webroot",
    /** The certificate chain nginx serves (a link to the newest certificate folder). */
    certificate: "/var/lib/plumberhub/acme/live/tls.crt",
    /** Its private key. */
    key: "/var/lib/plumberhub/acme/live/tls.key",
    /** The certificate's status as JSON (`notAfter`, `daysLeft` …), served at `/healthz/certificate`. */
    status: "/var/lib/plumberhub/acme/status/certificate.json",
    /** Where a CA bundle for a private ACME server is mounted. */
    caBundle: "/etc/plumberhub/acme-ca.pem",
    /** Per-container run files (the outcome of `plumberhub-acme renew`); not shared. */
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
    const subjectAltName = acme.dnsNames.map((name) => `DNS:${name}`).join(",");
    return `#!/bin/sh
# plumberhub-acme — rendered by plumberhub (components/render/gateway/acmeRenewal.ts); re-render instead of editing.
# The gateway's certificate from an ACME server (HTTP-01, lego), renewed while nginx runs.
#   plumberhub-acme serve    nginx and the renewal loop (the container's command)
#   plumberhub-acme renew    renew now, through the running loop; prints the outcome, exit 0 when renewed
#   plumberhub-acme status   the certificate's status (JSON)
set -u
STATE='${p.stateDir}'
WEBROOT='${p.webroot}'
RUN='${p.runDir}'
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

# Seconds since the epoch of one of the live certificate's dates (startdate or enddate).
cert_date() { date -u -d "$(openssl x509 -in "$STATE/live/tls.crt" -noout -"$1" | cut -d= -f2)" +%s; }

# Whether the live certificate must be replaced: none, the temporary one, other names, or two-thirds of its life gone.
renewal_due() {
    [ -s "$STATE/live/tls.crt" ] || return 0
    [ -e "$STATE/live/temporary" ] && return 0
    [ "$(cat "$STATE/live/names" 2>/dev/null)" = "$DOMAINS" ] || return 0
    start=$(cert_date startdate) && end=$(cert_date enddate) || return 0
    [ "$(date -u +%s)" -ge $((start + (end - start) * 2 / 3)) ]
}

# A new certificate folder, named by time so that the newest sorts last.
new_folder() {
    folder="$(date -u +%Y%m%dT%H%M%S%N)-$1"
    mkdir -p "$STATE/certs/$folder"
}

# Points live/ at a certificate folder in one rename, so a reader sees the old pair or the new one, never a mix;
# keeps the three newest folders.
publish() {
    ln -sfn "certs/$1" "$STATE/live.new.$ME" && mv -T "$STATE/live.new.$ME" "$STATE/live"
    for old in $(ls -1 "$STATE/certs" | sort -r | tail -n +4); do rm -rf "$STATE/certs/$old"; done
}

# A self-signed certificate so nginx can start before the first issuance (browsers warn until then).
make_temporary() {
    new_folder temporary
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days ${d.temporaryDays} -subj "/CN=$FIRST" \\
        -addext "subjectAltName=${subjectAltName}" -keyout "$STATE/certs/$folder/tls.key" -out "$STATE/certs/$folder/tls.crt" 2>"$RUN/openssl.log") \\
        || { cat "$RUN/openssl.log" >&2; return 1; }
    chmod 644 "$STATE/certs/$folder/tls.crt"
    echo "$DOMAINS" >"$STATE/certs/$folder/names"
    touch "$STATE/certs/$folder/temporary"
    publish "$folder"
    log "no certificate yet: serving a temporary self-signed one until the ACME server issues one"
}

# Asks the ACME server for a certificate; on success publishes it, on failure keeps the live one and says why.
issue() {
    log "requesting a certificate for $DOMAINS from $DIRECTORY"
    set --
    for name in $DOMAINS; do set -- "$@" --domains "$name"; done
    if lego --accept-tos --email "$EMAIL" --server "$DIRECTORY" --path "$STATE/lego" --http --http.webroot "$WEBROOT" "$@" run \\
        >"$RUN/lego.log" 2>&1; then
        new_folder acme
        cp "$STATE/lego/certificates/$FIRST.crt" "$STATE/certs/$folder/tls.crt" && chmod 644 "$STATE/certs/$folder/tls.crt"
        (umask 077 && cp "$STATE/lego/certificates/$FIRST.key" "$STATE/certs/$folder/tls.key")
        echo "$DOMAINS" >"$STATE/certs/$folder/names"
        publish "$folder"
        rm -f "$STATE/retry"
        log "issued: certificate for $DOMAINS valid until $(date -u -d @"$(cert_date enddate)" +%Y-%m-%dT%H:%M:%SZ)"
        return 0
    fi
    # The file holds the time of the next attempt and the wait that led to it.
    wait_seconds=$(($(cut -d' ' -f2 "$STATE/retry" 2>/dev/null || echo 0) * 2))
    [ "$wait_seconds" -ge ${d.firstRetrySeconds} ] || wait_seconds=${d.firstRetrySeconds}
    [ "$wait_seconds" -le "$RETRY_SECONDS" ] || wait_seconds=$RETRY_SECONDS
    echo "$(($(date -u +%s) + wait_seconds)) $wait_seconds" >"$STATE/retry"
    if [ -e "$STATE/live/temporary" ]; then
        kept="the temporary self-signed certificate"
        # Still failing when it is about to expire: a fresh one, so nginx keeps serving a valid (if untrusted) one.
        openssl x509 -in "$STATE/live/tls.crt" -noout -checkend 86400 >/dev/null || make_temporary
    else
        kept="the current certificate"
    fi
    log "renewal failed: keeping $kept; next attempt in $wait_seconds s (or now: plumberhub-acme renew). lego said:"
    sed 's/^/plumberhub-acme:   lego: /' "$RUN/lego.log" >&2
    return 1
}

write_status() {
    [ -s "$STATE/live/tls.crt" ] || return 0
    end=$(cert_date enddate) && start=$(cert_date startdate) || return 0
    temporary=false
    [ -e "$STATE/live/temporary" ] && temporary=true
    mkdir -p "$STATE/status"
    printf '{"notAfter":"%s","daysLeft":%d,"renewAfter":"%s","temporary":%s}\\n' \\
        "$(date -u -d @"$end" +%Y-%m-%dT%H:%M:%SZ)" $(((end - $(date -u +%s)) / 86400)) \\
        "$(date -u -d @$((start + (end - start) * 2 / 3)) +%Y-%m-%dT%H:%M:%SZ)" "$temporary" >"$STATE/status/.certificate.json.$ME" \\
        && mv -f "$STATE/status/.certificate.json.$ME" "$STATE/status/certificate.json"
}

# One turn of the loop: renew when due (or asked to), then serve the newest certificate on the volume.
# (Functions share the loop's variables: this one takes the request as $1 and sets only its own names.)
check() {
    if [ "$1" = 1 ] || renewal_due; then
        (
            flock 9
            # Another replica may have renewed while this one waited for the lock.
            if [ "$1" = 1 ]; then issue
            elif renewal_due && [ "$(date -u +%s)" -ge "$(cut -d' ' -f1 "$STATE/retry" 2>/dev/null || echo 0)" ]; then issue
            fi
        ) 9>"$STATE/lock"
        outcome=$?
    else
        outcome=0
    fi
    live=$(readlink "$STATE/live")
    if [ "$live" != "$loaded" ]; then
        kill -HUP "$NGINX" && loaded=$live && log "nginx reloaded with $live"
    fi
    write_status
    return $outcome
}

renewal_loop() {
    trap 'forced=1' USR1
    forced=0
    sequence=0
    loaded=$(readlink "$STATE/live")
    write_status
    while :; do
        if [ "$forced" = 1 ]; then
            forced=0
            sequence=$((sequence + 1))
            if check 1; then result=renewed; else result=failed; fi
            echo "$sequence $result" >"$RUN/result.tmp" && mv -f "$RUN/result.tmp" "$RUN/result"
        else
            check 0
        fi
        # A request that came during the check is served now, not after the pause.
        [ "$forced" = 1 ] && continue
        # Until the next check, or the next attempt after a failure when that comes first.
        pause=$CHECK_SECONDS
        until_retry=$(($(cut -d' ' -f1 "$STATE/retry" 2>/dev/null || echo 0) - $(date -u +%s)))
        if [ "$until_retry" -gt 0 ] && [ "$until_retry" -lt "$pause" ]; then pause=$until_retry; fi
        sleep "$pause" &
        wait $! || kill $! 2>/dev/null
    done
}

serve() {
    mkdir -p "$STATE/certs" "$WEBROOT" "$RUN"
    ( flock 9; [ -s "$STATE/live/tls.crt" ] || make_temporary ) 9>"$STATE/lock" || exit 1
    rm -f '${GATEWAY_DEFAULTS.pidFile}'
    nginx -g 'daemon off;' &
    NGINX=$!
    # nginx writes its pid file once it listens: the challenge can be answered from then on.
    tries=0
    until [ -s '${GATEWAY_DEFAULTS.pidFile}' ] || [ $tries -ge 100 ]; do tries=$((tries + 1)); sleep 0.1; done
    renewal_loop &
    LOOP=$!
    # Stop signals go to nginx (QUIT: graceful, TERM: fast); USR1 (plumberhub-acme renew) to the loop.
    trap 'kill -QUIT "$NGINX" 2>/dev/null' QUIT
    trap 'kill -TERM "$NGINX" 2>/dev/null' TERM INT
    trap 'kill -USR1 "$LOOP" 2>/dev/null' USR1
    while :; do
        wait "$NGINX"
        status=$?
        kill -0 "$NGINX" 2>/dev/null || break
    done
    kill "$LOOP" 2>/dev/null
    exit "$status"
}

renew() {
    before=$(cat "$RUN/result" 2>/dev/null || echo "0 none")
    kill -USR1 1 || { echo "plumberhub-acme: no running gateway to ask (run this inside the gateway container)" >&2; exit 2; }
    tries=0
    while [ "$(cat "$RUN/result" 2>/dev/null || echo "0 none")" = "$before" ]; do
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
status) cat "$STATE/status/certificate.json" ;;
*)
    echo "usage: plumberhub-acme serve|renew|status" >&2
    exit 2
    ;;
esac
`;
}
