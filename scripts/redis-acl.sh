#!/usr/bin/env bash
# Write Redis's first ACL file: no default user, the site's user with a password.
#   scripts/redis-acl.sh ACLFILE PASSWORDFILE
# The password file is made once (0600, root); the ACL file keeps only its SHA-256,
# and is where Redis saves the hosts' users (ACL SAVE), so it is written only when missing.
set -euo pipefail
acl=$1 pwfile=$2
if [ ! -s "$pwfile" ]; then
  (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$pwfile")
fi
if [ ! -s "$acl" ]; then
  hash=$(tr -d '\n' < "$pwfile" | sha256sum | cut -d' ' -f1)
  printf 'user default off resetkeys -@all\nuser wharf-site on #%s ~* &* +@all\n' "$hash" > "$acl"
fi
