package smpp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is this module's path.
const module = "github.com/smppkit/smpp"

// library lists the packages applications import. They must build with the
// standard library alone, whatever the rest of the module (the gateway, its
// store drivers, metrics, YAML) comes to depend on.
var library = []string{module, module + "/pdu", module + "/text", module + "/dlr", module + "/smpptest"}

// TestLibraryDependsOnlyOnTheStandardLibrary runs go list -deps on the
// library and fails for any dependency outside the standard library, and
// for any package of this module that is not itself library (dependencies
// point one way: gateway and commands build on the library, never the other
// way round). Test-only imports are not counted: they never reach a user.
func TestLibraryDependsOnlyOnTheStandardLibrary(t *testing.T) {
	goTool := goCommand(t)
	args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}, library...)
	cmd := exec.Command(goTool, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, module+"/pdu") {
		t.Fatalf("go list -deps did not list %s/pdu; output:\n%s", module, out)
	}
	for _, bad := range disallowed(deps) {
		t.Errorf("the library (%s) depends on %s: only the standard library and the library's own packages are allowed",
			strings.Join(library, ", "), bad)
	}
}

// disallowed returns the packages of deps (import paths of non-standard
// packages) that the library may not depend on.
func disallowed(deps []string) []string {
	var bad []string
	for _, p := range deps {
		if p != module && !strings.HasPrefix(p, module+"/") {
			bad = append(bad, p) // third-party
			continue
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
		top, _, _ := strings.Cut(rest, "/")
		switch top {
		case "", "pdu", "text", "dlr", "smpptest", "internal":
		default:
			bad = append(bad, p) // gateway, cmd, interop…
		}
	}
	return bad
}

func TestDisallowed(t *testing.T) {
	deps := []string{module, module + "/pdu", module + "/internal/x", module + "/gateway/store",
		"github.com/mattn/go-sqlite3", "gopkg.in/yaml.v3", module + "x/other", module + "/cmd/smpp"}
	want := []string{module + "/gateway/store", "github.com/mattn/go-sqlite3", "gopkg.in/yaml.v3", module + "x/other", module + "/cmd/smpp"}
	if got := disallowed(deps); !slices.Equal(got, want) {
		t.Errorf("disallowed = %q, want %q", got, want)
	}
}

// goCommand finds the go command that runs this test.
func goCommand(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
