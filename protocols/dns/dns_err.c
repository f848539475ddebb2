/* dns_err.c — names of the protocols/dns error codes (see dns_err.h). The
 * decode errors follow the bug classes of RFC 9267. */
#include "dns_err.h"

static const char *const names[DNS_ERR_COUNT_] = {
    [DNS_OK] = "ok",
    [DNS_ERR_SHORT] = "short",
    [DNS_ERR_LABEL_TOO_LONG] = "label_too_long",
    [DNS_ERR_NAME_TOO_LONG] = "name_too_long",
    [DNS_ERR_LABEL_TYPE] = "label_type",
    [DNS_ERR_PTR_LOOP] = "ptr_loop",
    [DNS_ERR_PTR_FORWARD] = "ptr_forward",
    [DNS_ERR_PTR_OUT_OF_BOUNDS] = "ptr_out_of_bounds",
    [DNS_ERR_RDLENGTH] = "rdlength",
    [DNS_ERR_COUNT] = "count",
    [DNS_ERR_TRAILING] = "trailing",
    [DNS_ERR_OPT] = "opt",
    [DNS_ERR_NOSPACE] = "nospace",
    [DNS_ERR_SYNTAX] = "syntax",
    [DNS_ERR_OUT_OF_ZONE] = "out_of_zone",
    [DNS_ERR_BAD_RR] = "bad_rr",
};

const char *dns_err_name(dns_err e) {
  if ((unsigned)e >= DNS_ERR_COUNT_ || !names[e])
    return "unknown";
  return names[e];
}
