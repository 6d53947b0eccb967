package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// completion is what the shell may complete after a command path ("" for
// the binary itself, "alert send"): its sub-commands and its flags.
type completion struct {
	path  string
	subs  []string
	flags []string
}

// flagLine finds a flag in a command's help: "  --json ..." in the help of
// the commands for people, "  -addr string" in that of the server's.
// The flag package puts a server command's flag's usage on the next line.
// A deprecated flag is left out.
var flagLine = regexp.MustCompile(`(?m)^  --?([a-z][a-z0-9-]*)(?:[ \t](.*))?$(?:\n    \t(.*)$)?`)

// completions walks the command table: each command's sub-commands, and
// its flags as its own --help lists them, so that the scripts offer what
// the commands accept and nothing else.
func completions(ctx context.Context, getenv func(string) string) []completion {
	var top []*node
	for _, s := range commands() {
		top = append(top, s.nodes...)
	}
	all := []completion{{path: "", subs: names(top)}}
	walk(top, nil, func(p []string, n *node) {
		c := completion{path: strings.Join(p, " "), subs: names(n.subs)}
		if n.run != nil {
			c.flags = helpFlags(ctx, n, getenv)
		}
		all = append(all, c)
	})
	return all
}

func names(nodes []*node) []string {
	var s []string
	for _, n := range nodes {
		if !n.hidden {
			s = append(s, n.name)
		}
	}
	return s
}

// helpFlags runs n with --help and reads its flags from what it prints.
func helpFlags(ctx context.Context, n *node, getenv func(string) string) []string {
	var out bytes.Buffer
	n.run(ctx, console{getenv: getenv, stdin: strings.NewReader(""), stdout: &out, stderr: &out}, []string{"--help"})
	var flags []string
	for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
		if !strings.Contains(m[2]+m[3], "deprecated") {
			flags = append(flags, "--"+m[1])
		}
	}
	slices.Sort(flags)
	return slices.Compact(append(flags, "--help"))
}

// writeCompletionTables writes the shell functions both scripts share,
// valid in bash and zsh: the sub-commands and the flags of a command path.
func writeCompletionTables(w io.Writer, all []completion) {
	fmt.Fprint(w, "_jarimu_subs() {\n  case \"$1\" in\n")
	for _, c := range all {
		if len(c.subs) > 0 {
			fmt.Fprintf(w, "    %q) echo %q ;;\n", c.path, strings.Join(c.subs, " "))
		}
	}
	fmt.Fprint(w, "  esac\n}\n\n_jarimu_flags() {\n  case \"$1\" in\n")
	for _, c := range all {
		if len(c.flags) > 0 {
			fmt.Fprintf(w, "    %q) echo %q ;;\n", c.path, strings.Join(c.flags, " "))
		}
	}
	fmt.Fprint(w, "  esac\n}\n\n")
}

const bashCompletion = `# The words before the cursor that name sub-commands make the command path.
_jarimu() {
  local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    if [[ $w != -* && " $(_jarimu_subs "$cmdpath") " == *" $w "* ]]; then
      cmdpath="${cmdpath:+$cmdpath }$w"
    else
      break
    fi
  done
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_jarimu_flags "$cmdpath")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_jarimu_subs "$cmdpath")" -- "$cur"))
  fi
}
complete -o default -F _jarimu jarimu
`

const zshCompletion = `# The words before the cursor that name sub-commands make the command path.
_jarimu() {
  local cmdpath="" w i
  local -a subs flags
  for ((i = 2; i < CURRENT; i++)); do
    w=${words[i]}
    subs=(${=$(_jarimu_subs "$cmdpath")})
    if [[ $w != -* && ${subs[(Ie)$w]} -gt 0 ]]; then
      cmdpath="${cmdpath:+$cmdpath }$w"
    else
      break
    fi
  done
  if [[ ${words[CURRENT]} == -* ]]; then
    flags=(${=$(_jarimu_flags "$cmdpath")})
    compadd -- $flags
  else
    subs=(${=$(_jarimu_subs "$cmdpath")})
    if (( ${#subs} )); then compadd -- $subs; else _files; fi
  fi
}

if [[ $funcstack[1] == _jarimu ]]; then
  _jarimu "$@"
else
  compdef _jarimu jarimu
fi
`

func runCompletionBash(ctx context.Context, con console, args []string) error {
	return runCompletion(ctx, con, args, "bash", "# bash completion for jarimu: eval \"$(jarimu completion bash)\", or save it\n"+
		"# as /etc/bash_completion.d/jarimu\n", bashCompletion)
}

func runCompletionZsh(ctx context.Context, con console, args []string) error {
	return runCompletion(ctx, con, args, "zsh", "#compdef jarimu\n# zsh completion for jarimu: source <(jarimu completion zsh), or save it as\n"+
		"# _jarimu in a directory of $fpath\n", zshCompletion)
}

// runCompletion prints the completion script of shell: head, the tables
// from the command table, then body.
func runCompletion(ctx context.Context, con console, args []string, shell, head, body string) error {
	c := con.bareCommand("completion "+shell, "",
		"Print the "+shell+" completion script of jarimu: it completes commands, sub-commands\n"+
			"and flags, as listed by the commands themselves.",
		completionExample[shell])
	if _, err := c.parse(args); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(head + "\n")
	writeCompletionTables(&b, completions(ctx, con.getenv))
	b.WriteString(body)
	_, err := con.stdout.Write(b.Bytes())
	return err
}

var completionExample = map[string]string{
	"bash": `jarimu completion bash > ~/.local/share/bash-completion/completions/jarimu`,
	"zsh":  `jarimu completion zsh > "${fpath[1]}/_jarimu"`,
}
