/*
 * test_sha256.c - pl_sha256_hex (engine/core/obj.c, a local SHA-256) against the FIPS 180-4
 * example vectors, on the padding edges (55, 56, 63, 64 bytes) where a second final block
 * is needed, and on a multi-block input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "plumb/core.h"

static void check(const char *data, size_t len, const char *want)
{
    char got[65];

    pl_sha256_hex(got, data, len);
    assert_string_equal(got, want);
}

static void test_core_sha256__known_vectors(void **state)
{
    (void)state;
    check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 56 bytes: the length no longer fits the first final block */
    check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* 112 bytes: two full blocks, then the padding block */
    check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnop"
          "qrlmnopqrsmnopqrstnopqrstu",
          112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_core_sha256__padding_edges(void **state)
{
    char a[64];

    (void)state;
    memset(a, 'a', sizeof(a));
    check(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check(a, 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
    check(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_sha256__known_vectors),
        cmocka_unit_test(test_core_sha256__padding_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
