#!/bin/sh
# SPDX-License-Identifier: MIT
# The context's tree id comes from a cache under the runtime directory
# (cache/tree/), keyed by the commit id berth reads from HEAD and the refs
# without git: the first start runs git once (strace counts its execve),
# the next runs none and gives the tree id git gives.  A new commit, a
# detached HEAD and packed refs are read right; a corrupted entry is not
# believed; an app directory the commit does not hold is remembered as
# such; a repository of another user, an include in its config, a
# symbolic ref chain or a cache directory others may write run git.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
command -v strace >/dev/null || skip_all "needs strace"
[ -x /usr/bin/git ] || skip_all "needs /usr/bin/git (the context's tree id)"

BERTH_RUNTIME_DIR=$TMP/run
export BERTH_RUNTIME_DIR
CACHE=$BERTH_RUNTIME_DIR/cache/tree
TRACE=$TMP/trace
ZEROS=0000000000000000000000000000000000000000
write_app 'exec sleep 1000'
G() { git -C "$APP" -c user.name=t -c user.email=t@t "$@"; }
G init -q -b main && G add .platform.app.yaml && G commit -qm one ||
	skip_all "git commit failed"

# start [DIR]: `berth env` on the app in DIR (default $APP) under strace;
# GITS is how many times it executed git, TID its PLATFORM_TREE_ID.
start() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=execve -o "$TRACE" \
		"$BERTH" -f "${1:-$APP}/.platform.app.yaml" env --format=json test \
		>"$TMP/env.json" 2>"$BLOG"
	RC=$?
	GITS=$(grep -c 'execve("/usr/bin/git"' "$TRACE")
	TID=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["PLATFORM_TREE_ID"])' \
		<"$TMP/env.json" 2>/dev/null)
}
# What berth's git says for DIR: its tree id, or the default when it fails.
git_says() {
	env -i GIT_CONFIG_NOSYSTEM=1 /usr/bin/git -C "$1" rev-parse --verify --quiet HEAD:./ ||
		echo "$ZEROS"
}
# cold_warm NAME [DIR]: the first start runs git once, the second none, and
# both give git's tree id.
cold_warm() {
	_want=$(git_says "${2:-$APP}")
	start "${2:-}"
	is "$RC $GITS $TID" "0 1 $_want" "$1: the first start runs git once, gives its tree id"
	start "${2:-}"
	is "$RC $GITS $TID" "0 0 $_want" "$1: the next start runs no git, the same tree id"
}
# entry: the cache's entries, by name.
entries() { ls "$CACHE" 2>/dev/null | tr '\n' ' '; }
# The one entry is named after HEAD's commit (read without git).
head_entry() {
	_c=$(G rev-parse HEAD)
	case "$(entries)" in
	"$_c"-*" ") ok "$1: the entry is named after HEAD's commit" ;;
	*) not_ok "$1: the entry is named after HEAD's commit ($_c): $(entries)" ;;
	esac
}

cold_warm "a branch"
head_entry "a branch"
is "$(stat -c '%a %u' "$BERTH_RUNTIME_DIR/cache" "$CACHE" | tr '\n' ' ')" "700 0 700 0 " \
	"cache/ and cache/tree/ are root's, 0700"
tree1=$TID

echo more >"$APP/file" && G add file && G commit -qm two
cold_warm "a new commit"
check "a new commit: another tree id" [ "$TID" != "$tree1" ]
head_entry "a new commit (the old commit's entry removed)"

G checkout -q --detach HEAD~1
check "detached: HEAD holds an id" sh -c "! grep -q '^ref:' '$APP/.git/HEAD'"
cold_warm "a detached HEAD"
is "$TID" "$tree1" "a detached HEAD: the first commit's tree"
head_entry "a detached HEAD"

G checkout -q main && G branch other HEAD~1 && G tag -a -m t v1 HEAD~1 &&
	G pack-refs --all
check "packed: no loose branch" [ ! -e "$APP/.git/refs/heads/main" ]
check "packed: a peeled line" grep -q '^\^' "$APP/.git/packed-refs"
cold_warm "packed refs"
head_entry "packed refs"
G symbolic-ref HEAD refs/heads/other
cold_warm "packed refs, another branch"
is "$TID" "$tree1" "packed refs, another branch: its tree"
head_entry "packed refs, another branch"

# A corrupted entry is not believed, and replaced.
want=$TID
name=$(ls "$CACHE")
printf 'berth tree cache 1\ncommit x\n' >"$CACHE/$name"
start
is "$RC $GITS $TID" "0 1 $want" "a corrupted entry: git runs, its tree id"
check "a corrupted entry: replaced" grep -qx "tree $want" "$CACHE/$name"
start
is "$GITS $TID" "0 $want" "a corrupted entry: the next start runs no git"
sed "s/^tree .*/tree $ZEROS/" "$CACHE/$name" >"$TMP/e" && cat "$TMP/e" >"$CACHE/$name"
sed -i 's/^prefix .*/prefix elsewhere/' "$CACHE/$name"
start
is "$GITS $TID" "1 $want" "an entry of another key: not believed"

# A cache directory others may write is not used.
chmod 0777 "$CACHE"
start
start
is "$GITS $TID" "1 $want" "a cache directory others may write: git runs"
chmod 0700 "$CACHE"

# Unusual repositories run git every time, even with a warm entry.
start
is "$GITS" 0 "warm again"
G config include.path /dev/null
start
is "$GITS $TID" "1 $want" "an include in the config: git runs"
G config --unset include.path
G symbolic-ref refs/heads/alias refs/heads/other && G symbolic-ref HEAD refs/heads/alias
start
is "$GITS $TID" "1 $want" "a symbolic ref chain: git runs"
G symbolic-ref HEAD refs/heads/other
start
is "$GITS" 0 "warm again"
# An app directory the commit does not hold (untracked): git gives no
# tree id; a second git sees the commit's tree, and "none" is kept.
mkdir "$APP/new" && cp "$APP/.platform.app.yaml" "$APP/new/"
start "$APP/new"
is "$RC $GITS $TID" "0 2 $ZEROS" "an untracked app directory: git runs twice, no tree id"
start "$APP/new"
is "$RC $GITS $TID" "0 0 $ZEROS" "an untracked app directory: the next start runs no git"
rm -r "$APP/new"
# Another user's repository: git refuses it (no safe.directory) and the
# warm entry must not answer for it.
chown -R 65534 "$APP"
start
is "$GITS $TID" "1 $(git_says "$APP")" "another user's repository: git runs, its answer"
start
is "$GITS $TID" "1 $(git_says "$APP")" "another user's repository: git runs again"
chown -R 0 "$APP"

# A linked work tree (a `gitdir:` file) and a SHA-256 repository.
G worktree add -q "$TMP/wt" main
cold_warm "a linked work tree" "$TMP/wt"
mkdir "$TMP/s256" && cp "$APP/.platform.app.yaml" "$TMP/s256/" &&
	git -C "$TMP/s256" init -q --object-format=sha256 &&
	git -C "$TMP/s256" add . &&
	git -C "$TMP/s256" -c user.name=t -c user.email=t@t commit -qm s
cold_warm "SHA-256" "$TMP/s256"
is "${#TID}" 64 "SHA-256: a 64-digit tree id"

# show reads the cache, never writes it.
rm -rf "$BERTH_RUNTIME_DIR/cache"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=execve \
	-o "$TRACE" "$BERTH" -f "$APP/.platform.app.yaml" show test >/dev/null 2>"$BLOG"
is "$? $(grep -c 'execve("/usr/bin/git"' "$TRACE")" "0 1" "show: git runs on a miss"
check "show: no cache written" [ ! -e "$BERTH_RUNTIME_DIR/cache" ]
done_testing
