#!/usr/bin/env bash
# serve.sh DIR PORT [LOOSEN...]: a private DokuWiki on 127.0.0.1:PORT, its
# configuration and data in DIR (made anew), its code Debian's package
# (/usr/share/dokuwiki, read-only). Each LOOSEN appends the permission
# settings of one planted misconfiguration (loosen/NAME.acl and
# loosen/NAME.php). Runs PHP's built-in server in the foreground.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$1 port=$2; shift 2
[ -d /usr/share/dokuwiki ] || { echo "serve.sh: DokuWiki is not installed (apt-get install dokuwiki php-cli)" >&2; exit 2; }
rm -rf "$dir"; mkdir -p "$dir"
cp -rL /etc/dokuwiki "$dir/conf"
cp -rL /var/lib/dokuwiki/data "$dir/data"
rm -f "$dir"/conf/{local.php,users.auth.php,acl.auth.php,local.protected.php}
cp -r "$here"/pages/. "$dir/data/pages/"
cp "$here/conf/acl.auth.php" "$here/conf/users.auth.php" "$dir/conf/"
{ cat "$here/conf/local.php"; echo "\$conf['savedir'] = '$dir/data';"; } > "$dir/conf/local.php"
for l in "$@"; do
  [ -f "$here/loosen/$l.acl" ] && cat "$here/loosen/$l.acl" >> "$dir/conf/acl.auth.php"
  [ -f "$here/loosen/$l.php" ] && tail -n +2 "$here/loosen/$l.php" >> "$dir/conf/local.php"
  [ -f "$here/loosen/$l.acl" ] || [ -f "$here/loosen/$l.php" ] || { echo "serve.sh: no loosening $l" >&2; exit 2; }
done
mkdir -p "$dir/sessions"   # PHP's sessions, where the test can see which are left
printf '<?php\nif (!defined("DOKU_CONF")) define("DOKU_CONF", "%s/conf/");\n' "$dir" > "$dir/prepend.php"
# Four workers: the built-in server otherwise answers one request at a time.
PHP_CLI_SERVER_WORKERS=${PHP_CLI_SERVER_WORKERS:-4} exec php -S "127.0.0.1:$port" -t /usr/share/dokuwiki -d "auto_prepend_file=$dir/prepend.php" -d display_errors=0 -d "session.save_path=$dir/sessions"
