package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/waymark-dns/waymark/controlplane"
)

// controlplaneCodes lists the Code constants declared in
// controlplane/errors.go, by parsing it, so that a new code cannot be
// added without a status here.
func controlplaneCodes(t *testing.T) []controlplane.Code {
	t.Helper()
	return codesIn(t, "../controlplane/errors.go")
}

// codesIn lists the constants of type Code declared in a file.
func codesIn(t *testing.T, file string) []controlplane.Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []controlplane.Code
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("code constant with a non-literal value: %v", v)
				}
				s, _ := strconv.Unquote(lit.Value)
				codes = append(codes, controlplane.Code(s))
			}
		}
	}
	if len(codes) < 5 {
		t.Fatalf("found only %d codes in %s; the parser is out of date", len(codes), file)
	}
	return codes
}

// apiOnlyCodes are the codes only this package raises.
func apiOnlyCodes() []controlplane.Code {
	return []controlplane.Code{
		codePayloadTooLarge, codeUnsupportedMediaType, codeThrottling, codeNotFound,
		codeMethodNotAllowed, codeInternalError, codeServiceUnavailable,
	}
}

// allCodes are every code the API answers: the control plane's, its
// own and the registrar's.
func allCodes(t *testing.T) []controlplane.Code {
	return append(append(controlplaneCodes(t), apiOnlyCodes()...), registrarCodes...)
}

func TestErrorStatusCoversEveryCode(t *testing.T) {
	t.Parallel()
	all := allCodes(t)
	for _, c := range all {
		status, ok := httpStatus(c)
		if !ok {
			t.Errorf("code %s has no HTTP status in httpStatus", c)
			continue
		}
		if status < 400 || status > 599 {
			t.Errorf("code %s maps to %d", c, status)
		}
		if status == http.StatusInternalServerError && c != codeInternalError {
			t.Errorf("code %s maps to 500; only InternalError may", c)
		}
	}

	// openapi.yaml's ErrorCode enum lists exactly the same codes.
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var enum []string
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		enum = append(enum, v.(string))
	}
	var want []string
	for _, c := range all {
		want = append(want, string(c))
	}
	slices.Sort(enum)
	slices.Sort(want)
	if !slices.Equal(enum, want) {
		t.Errorf("openapi.yaml ErrorCode enum\n got %v\nwant %v", enum, want)
	}
}

// TestRegistrarCodesAreTheAPIs: every registrar.Code is answered (in
// registrarCodes, or the control plane's InvalidInput).
func TestRegistrarCodesAreTheAPIs(t *testing.T) {
	t.Parallel()
	for _, c := range codesIn(t, "../registrar/registrar.go") {
		if c != controlplane.CodeInvalidInput && !slices.Contains(registrarCodes, c) {
			t.Errorf("registrar code %s is not in registrarCodes (api/domains.go)", c)
		}
	}
}

func TestErrorStatusTable(t *testing.T) {
	t.Parallel()
	for code, want := range map[controlplane.Code]int{
		controlplane.CodeInvalidChangeBatch:      400,
		controlplane.CodeTooManyHostedZones:      400,
		controlplane.CodeUnauthorized:            401,
		controlplane.CodeForbidden:               403,
		controlplane.CodeNoSuchHostedZone:        404,
		controlplane.CodeHostedZoneNotEmpty:      409,
		controlplane.CodePriorRequestNotComplete: 409,
		codePayloadTooLarge:                      413,
		codeThrottling:                           429,
		codeServiceUnavailable:                   503,
	} {
		if got, _ := httpStatus(code); got != want {
			t.Errorf("%s: got %d, want %d", code, got, want)
		}
	}
	if _, ok := httpStatus("SomethingNew"); ok {
		t.Error("an unknown code must not have a status")
	}
}
