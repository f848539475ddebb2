/* userdir.h — the people of a simulated world: mail addresses, passwords
 * and where their mail is kept.
 *
 * One directory per world, shared (read-only) by the hosts: a submission
 * server checks AUTH against it, a mailbox host knows its users from it and
 * checks IMAP/POP3 logins. Addresses compare case-insensitively in the
 * domain and exactly in the local part (RFC 5321 §2.4); lookups are by the
 * whole address.
 */
#ifndef MAILSIM_USERDIR_H
#define MAILSIM_USERDIR_H

#include <glib.h>
#include <stdbool.h>

typedef struct userdir userdir;

typedef struct {
  const char *address;  /* "bob@example.org" */
  const char *password;
  const char *mailbox;  /* name of the host keeping the mail, or NULL */
} userdir_user;

userdir *userdir_new(void);
void userdir_free(userdir *d);
/* Adds a user (strings copied). False if the address is already there. */
bool userdir_add(userdir *d, const char *address, const char *password, const char *mailbox);
/* The user with ADDRESS, or NULL (borrowed; valid until the directory is
 * freed). */
const userdir_user *userdir_find(const userdir *d, const char *address);
/* True if USER (an address) has PASSWORD. */
bool userdir_check(const userdir *d, const char *user, const char *password);
/* Users whose mail is kept on host MAILBOX, in the order they were added. */
GPtrArray *userdir_on_host(const userdir *d, const char *mailbox);

#endif
