#!/bin/sh
# SPDX-License-Identifier: MIT
# contrib/bash-completion/berth, loaded into bash as the installed file is:
# commands and options from the built berth's --help, the workers of the
# app named by the global options already typed, values of enum options,
# nothing after exec's --.
. "${TOP_SRCDIR:-.}/tests/integration/lib.sh"
command -v bash >/dev/null || skip_all "bash missing"

EX=$TOP_SRCDIR/contrib/examples

# complete LINE: the completions bash offers at the end of the command
# line LINE (as bash gives it: COMP_LINE, COMP_POINT, and COMP_WORDS split
# at COMP_WORDBREAKS), sorted, on one line.
complete_line() {
	bash -c '. "$1/contrib/bash-completion/berth"
berth() { "$BERTH" "$@"; }
COMP_LINE=$2
COMP_POINT=${#2}
read -ra COMP_WORDS <<<"${2//=/ = }"
[[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_berth
printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' \
		_ "$TOP_SRCDIR" "$1"
}

is "$(complete_line 'berth ')" "check env exec hook kube list run show spec" "the commands"
is "$(complete_line 'berth r')" "run" "a command's prefix"
is "$(complete_line "berth -C $EX run ")" "mail queue" "run: the app's workers (-C)"
is "$(complete_line "berth -f $EX/.platform.app.yaml show q")" "queue" "show: a worker (-f)"
is "$(complete_line "berth --app-dir=$EX env ")" "mail queue" "env: workers (--app-dir=DIR)"
is "$(complete_line "berth -C $TMP/none run ")" "" "no app: no workers, no error"
is "$(complete_line 'berth run --stop-t')" "--stop-timeout" "run --stop-t: run's options"
is "$(complete_line 'berth --log')" "--log-format" "a global option"
is "$(complete_line 'berth --log-format ')" "json text" "--log-format's values"
is "$(complete_line 'berth run --kill-mode m')" "mixed" "--kill-mode's values"
is "$(complete_line 'berth hook c')" "createContainer createRuntime" "hook: the stages"
is "$(complete_line "berth -C $EX exec queue -- ")" "" "nothing after exec's --"
is "$(complete_line "berth -C $EX kube --image x ")" "mail queue" "kube: the app's workers"
is "$(complete_line "berth -C $EX kube --image queue queue ")" "mail" \
	"kube: those not named yet (not an option's value)"
is "$(complete_line "berth -C $EX kube mail --image x queue ")" "" "kube: all named"
is "$(complete_line 'berth kube --auto-size X')" "XL" "--auto-size's values"
# Every option run --help lists is offered.
want=$("$BERTH" run --help | grep -Eo '^ +(-[a-z], )?--[a-z][a-z0-9-]*' |
	grep -Eo -- '--[a-z0-9-]+' | sort -u | tr '\n' ' ' | sed 's/ $//')
got=$(complete_line 'berth run --' | tr ' ' '\n' | grep -- '^--' | sort -u | tr '\n' ' ' |
	sed 's/ $//')
check "every run option is offered ($(echo "$want" | wc -w))" test -n "$want" -a "$want" = "$got"
done_testing
