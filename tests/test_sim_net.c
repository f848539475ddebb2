#include "net_fixture.h"
#include "testutil.h"
START_TEST(placeholder) { ck_assert(1); }
END_TEST
int main(void) { Suite *s = suite_create("x"); TCase *tc = tcase_create("x"); tcase_add_test(tc, placeholder); suite_add_tcase(s, tc); return testutil_run(s); }
