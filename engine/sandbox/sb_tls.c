/*
 * sb_tls.c - the sandbox's credentials: a CA, a server certificate, a client certificate
 * (CN=plumb-admin, O=system:masters) and a bearer token, all generated with OpenSSL; client
 * certificate verification; the kubeconfig (API-NOTES §11).
 *
 * With --state DIR the CA, client credentials and token live in DIR/pki (0600 files) and are
 * reused on restart, so a kubeconfig written earlier stays valid. The server certificate is
 * reissued on every start (same CA) so that its SAN always covers the listen host.
 * Secrets (keys, token) never appear in error messages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sb_transport.h"

#define CA_DAYS 3650
#define LEAF_DAYS 3650

/* ---- small file helpers -------------------------------------------------------------------- */

static int read_file(char **out, const char *path)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? PL_ENOTFOUND
                               : pl_error_set(PL_ERROR, "cannot read %s: %s", path,
                                              strerror(errno));
    pl_buf b = PL_BUF_INIT;
    char chunk[4096];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if ((rc = pl_buf_put(&b, chunk, n)) != 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = pl_error_set(PL_ERROR, "cannot read %s", path);
    fclose(f);
    if (rc != 0) {
        pl_buf_dispose(&b);
        return rc;
    }
    if (b.ptr == NULL)
        pl_buf_puts(&b, "");
    *out = pl_buf_detach(&b);
    return 0;
}

/* Write atomically: temp file in the same directory, fsync, rename; mode 0600. */
static int write_file_atomic(const char *path, const char *data, size_t len)
{
    pl_buf tmp = PL_BUF_INIT;
    int rc = 0, fd = -1;
    pl_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = pl_error_set(PL_ERROR, "cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = pl_error_set(PL_ERROR, "cannot write %s: %s", path, strerror(errno));
            goto done;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = pl_error_set(PL_ERROR, "cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp.ptr, path) != 0)
        rc = pl_error_set(PL_ERROR, "cannot write %s: %s", path, strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp.ptr != NULL)
        unlink(tmp.ptr);
    pl_buf_dispose(&tmp);
    return rc;
}

static int ensure_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return pl_error_set(PL_ERROR, "cannot create directory %s: %s", path, strerror(errno));
    return 0;
}

/* ---- OpenSSL helpers ----------------------------------------------------------------------- */

static int ossl_fail(const char *what)
{
    unsigned long e = ERR_get_error();
    char msg[256] = "unknown error";
    if (e != 0)
        ERR_error_string_n(e, msg, sizeof(msg));
    ERR_clear_error();
    return pl_error_set(PL_ERROR, "sandbox tls: %s failed: %s", what, msg);
}

static char *bio_to_string(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n < 0)
        return NULL;
    return pl_strndup(data ? data : "", (size_t)n);
}

static char *key_to_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
        s = bio_to_string(bio);
    BIO_free(bio);
    return s;
}

static char *cert_to_pem(X509 *cert)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1)
        s = bio_to_string(bio);
    BIO_free(bio);
    return s;
}

static X509 *pem_to_cert(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *c = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return c;
}

static EVP_PKEY *pem_to_key(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return k;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/*
 * Issue a certificate for `key` (subject CN/O), signed by issuer_key (self-signed when
 * issuer == NULL). kind: 0 = CA, 1 = server (san), 2 = client.
 */
static X509 *issue(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer,
                   EVP_PKEY *issuer_key, int kind, const char *san)
{
    X509 *c = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    if (c == NULL)
        return NULL;
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) == NULL)
        goto fail;
    X509_set_version(c, 2);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), (long)(kind == 0 ? CA_DAYS : LEAF_DAYS) * 86400);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    if (org != NULL)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1,
                                   0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : c;
    int bad = 0;
    bad |= add_ext(c, iss, NID_subject_key_identifier, "hash");
    if (kind == 0) {
        bad |= add_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE");
        bad |= add_ext(c, iss, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign");
    } else {
        bad |= add_ext(c, iss, NID_authority_key_identifier, "keyid:always");
        bad |= add_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE");
        bad |= add_ext(c, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        bad |= add_ext(c, iss, NID_ext_key_usage, kind == 1 ? "serverAuth" : "clientAuth");
        if (kind == 1 && san != NULL)
            bad |= add_ext(c, iss, NID_subject_alt_name, san);
    }
    if (bad || X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) == 0)
        goto fail;
    BN_free(bn);
    return c;
fail:
    BN_free(bn);
    X509_free(c);
    return NULL;
}

static int is_ip(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static EVP_PKEY *new_key(void)
{
    /* EC P-256: fast to generate, accepted by GnuTLS (server side) and client-go */
    return EVP_EC_gen("P-256");
}

/* ---- init ---------------------------------------------------------------------------------- */

static int make_store(sb_tls *tls)
{
    X509 *ca = pem_to_cert(tls->ca_cert_pem);
    X509_STORE *st = X509_STORE_new();
    if (ca == NULL || st == NULL || X509_STORE_add_cert(st, ca) != 1) {
        X509_free(ca);
        X509_STORE_free(st);
        return ossl_fail("loading the sandbox ca");
    }
    X509_free(ca);
    tls->store = st;
    return 0;
}

static char *random_token(void)
{
    unsigned char raw[24];
    char hex[sizeof(raw) * 2 + 1];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return NULL;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return pl_strdup(hex);
}

static void strip_trailing_ws(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* Fresh CA, client credentials and token. */
static int create_identity(sb_tls *tls)
{
    int rc = 0;
    EVP_PKEY *ca_key = new_key(), *cl_key = new_key();
    X509 *ca = NULL, *cl = NULL;
    if (ca_key == NULL || cl_key == NULL) {
        rc = ossl_fail("key generation");
        goto done;
    }
    ca = issue(ca_key, "plumb-sandbox-ca", NULL, NULL, NULL, 0, NULL);
    cl = ca ? issue(cl_key, "plumb-admin", "system:masters", ca, ca_key, 2, NULL) : NULL;
    if (ca == NULL || cl == NULL) {
        rc = ossl_fail("certificate issuing");
        goto done;
    }
    tls->ca_cert_pem = cert_to_pem(ca);
    tls->ca_key_pem = key_to_pem(ca_key);
    tls->client_cert_pem = cert_to_pem(cl);
    tls->client_key_pem = key_to_pem(cl_key);
    tls->token = random_token();
    if (!tls->ca_cert_pem || !tls->ca_key_pem || !tls->client_cert_pem || !tls->client_key_pem ||
        !tls->token)
        rc = ossl_fail("encoding credentials");
done:
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(cl_key);
    X509_free(ca);
    X509_free(cl);
    return rc;
}

static int issue_server(sb_tls *tls, const char *host)
{
    int rc = 0;
    EVP_PKEY *ca_key = pem_to_key(tls->ca_key_pem), *key = new_key();
    X509 *ca = pem_to_cert(tls->ca_cert_pem), *srv = NULL;
    pl_buf san = PL_BUF_INIT;
    if (ca_key == NULL || ca == NULL || key == NULL) {
        rc = ossl_fail("loading the sandbox ca");
        goto done;
    }
    pl_buf_puts(&san, "IP:127.0.0.1,DNS:localhost");
    if (host != NULL && host[0] != '\0' && strcmp(host, "127.0.0.1") != 0 &&
        strcmp(host, "localhost") != 0 && strchr(host, ',') == NULL)
        pl_buf_printf(&san, ",%s:%s", is_ip(host) ? "IP" : "DNS", host);
    srv = issue(key, "plumb-sandbox", NULL, ca, ca_key, 1, san.ptr);
    if (srv == NULL) {
        rc = ossl_fail("server certificate issuing");
        goto done;
    }
    tls->server_cert_pem = cert_to_pem(srv);
    tls->server_key_pem = key_to_pem(key);
    if (tls->server_cert_pem == NULL || tls->server_key_pem == NULL)
        rc = ossl_fail("encoding the server certificate");
done:
    pl_buf_dispose(&san);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    X509_free(ca);
    X509_free(srv);
    return rc;
}

static const char *const PKI_FILES[] = {"ca.crt", "ca.key", "client.crt", "client.key", "token"};

static char **pki_field(sb_tls *tls, size_t i)
{
    char **f[] = {&tls->ca_cert_pem, &tls->ca_key_pem, &tls->client_cert_pem,
                  &tls->client_key_pem, &tls->token};
    return f[i];
}

int sb_tls_init(sb_tls *tls, const char *state_dir, const char *host)
{
    int rc = 0;
    pl_buf dir = PL_BUF_INIT, path = PL_BUF_INIT;
    memset(tls, 0, sizeof(*tls));
    size_t nfiles = sizeof(PKI_FILES) / sizeof(PKI_FILES[0]);

    if (state_dir != NULL) {
        if ((rc = ensure_dir(state_dir)) != 0)
            goto done;
        pl_buf_printf(&dir, "%s/pki", state_dir);
        if ((rc = ensure_dir(dir.ptr)) != 0)
            goto done;
        size_t found = 0;
        for (size_t i = 0; i < nfiles; i++) {
            pl_buf_clear(&path);
            pl_buf_printf(&path, "%s/%s", dir.ptr, PKI_FILES[i]);
            rc = read_file(pki_field(tls, i), path.ptr);
            if (rc == PL_ENOTFOUND) {
                rc = 0;
                continue;
            }
            if (rc != 0)
                goto done;
            found++;
        }
        if (found == nfiles) {
            strip_trailing_ws(tls->token);
            X509 *ca = pem_to_cert(tls->ca_cert_pem);
            EVP_PKEY *k = pem_to_key(tls->ca_key_pem);
            int ok = ca != NULL && k != NULL && tls->token[0] != '\0';
            X509_free(ca);
            EVP_PKEY_free(k);
            if (!ok) {
                rc = pl_error_set(PL_EINVALID, "%s: unreadable sandbox credentials", dir.ptr);
                goto done;
            }
        } else if (found != 0) {
            rc = pl_error_set(PL_EINVALID, "%s: incomplete sandbox credentials", dir.ptr);
            goto done;
        }
        if (found == 0) {
            for (size_t i = 0; i < nfiles; i++) {
                pl_free(*pki_field(tls, i));
                *pki_field(tls, i) = NULL;
            }
            if ((rc = create_identity(tls)) != 0)
                goto done;
            for (size_t i = 0; i < nfiles; i++) {
                pl_buf_clear(&path);
                pl_buf_printf(&path, "%s/%s", dir.ptr, PKI_FILES[i]);
                const char *data = *pki_field(tls, i);
                if ((rc = write_file_atomic(path.ptr, data, strlen(data))) != 0)
                    goto done;
            }
        }
    } else if ((rc = create_identity(tls)) != 0) {
        goto done;
    }

    if ((rc = issue_server(tls, host)) != 0)
        goto done;
    if (state_dir != NULL) {
        pl_buf_clear(&path);
        pl_buf_printf(&path, "%s/server.crt", dir.ptr);
        if ((rc = write_file_atomic(path.ptr, tls->server_cert_pem,
                                    strlen(tls->server_cert_pem))) != 0)
            goto done;
        pl_buf_clear(&path);
        pl_buf_printf(&path, "%s/server.key", dir.ptr);
        if ((rc = write_file_atomic(path.ptr, tls->server_key_pem,
                                    strlen(tls->server_key_pem))) != 0)
            goto done;
    }
    rc = make_store(tls);
done:
    pl_buf_dispose(&dir);
    pl_buf_dispose(&path);
    if (rc != 0)
        sb_tls_dispose(tls);
    return rc;
}

static void free_secret(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        pl_free(s);
    }
}

void sb_tls_dispose(sb_tls *tls)
{
    if (tls == NULL)
        return;
    pl_free(tls->ca_cert_pem);
    free_secret(tls->ca_key_pem);
    pl_free(tls->server_cert_pem);
    free_secret(tls->server_key_pem);
    pl_free(tls->client_cert_pem);
    free_secret(tls->client_key_pem);
    free_secret(tls->token);
    X509_STORE_free(tls->store);
    memset(tls, 0, sizeof(*tls));
}

/* ---- client certificates (API-NOTES §11: user = CN) ---------------------------------------- */

int sb_tls_verify_client(const sb_tls *tls, char **user, const unsigned char *der, size_t len)
{
    int rc = PL_EAUTH;
    *user = NULL;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (cert == NULL || ctx == NULL || tls->store == NULL)
        goto done;
    if (X509_STORE_CTX_init(ctx, tls->store, cert, NULL) != 1)
        goto done;
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    if (X509_verify_cert(ctx) != 1)
        goto done;
    char cn[256];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                      sizeof(cn));
    if (n <= 0)
        goto done;
    *user = pl_strdup(cn);
    rc = *user ? 0 : PL_ENOMEM;
done:
    if (rc != 0)
        pl_error_set(PL_EAUTH, "client certificate rejected");
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_free(cert);
    return rc;
}

/* ---- kubeconfig ---------------------------------------------------------------------------- */

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = pl_malloc(4 * ((n + 2) / 3) + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

int sb_tls_write_kubeconfig(const sb_tls *tls, const char *path, const char *server_url)
{
    char *ca = b64(tls->ca_cert_pem), *cc = b64(tls->client_cert_pem),
         *ck = b64(tls->client_key_pem);
    pl_buf y = PL_BUF_INIT;
    int rc = 0;
    if (ca == NULL || cc == NULL || ck == NULL) {
        rc = pl_error_set(PL_ENOMEM, "out of memory writing %s", path);
        goto done;
    }
    pl_buf_printf(&y,
                  "apiVersion: v1\n"
                  "kind: Config\n"
                  "clusters:\n"
                  "- name: plumb-sandbox\n"
                  "  cluster:\n"
                  "    server: %s\n"
                  "    certificate-authority-data: %s\n"
                  "users:\n"
                  "- name: plumb-sandbox-token\n"
                  "  user:\n"
                  "    token: %s\n"
                  "- name: plumb-sandbox-cert\n"
                  "  user:\n"
                  "    client-certificate-data: %s\n"
                  "    client-key-data: %s\n"
                  "contexts:\n"
                  "- name: plumb-sandbox\n"
                  "  context:\n"
                  "    cluster: plumb-sandbox\n"
                  "    user: plumb-sandbox-token\n"
                  "    namespace: default\n"
                  "- name: plumb-sandbox-cert\n"
                  "  context:\n"
                  "    cluster: plumb-sandbox\n"
                  "    user: plumb-sandbox-cert\n"
                  "    namespace: default\n"
                  "current-context: plumb-sandbox\n"
                  "preferences: {}\n",
                  server_url, ca, tls->token, cc, ck);
    if (y.ptr == NULL) {
        rc = pl_error_set(PL_ENOMEM, "out of memory writing %s", path);
        goto done;
    }
    rc = write_file_atomic(path, y.ptr, y.len);
done:
    if (y.ptr != NULL)
        OPENSSL_cleanse(y.ptr, y.len);
    pl_buf_dispose(&y);
    pl_free(ca);
    pl_free(cc);
    if (ck != NULL)
        OPENSSL_cleanse(ck, strlen(ck));
    pl_free(ck);
    return rc;
}
