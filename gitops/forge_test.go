package gitops

import "testing"

func TestCompareURL(t *testing.T) {
	for _, tc := range []struct{ forge, remote, want string }{
		{"", "https://github.com/back-stack/platform.git", "https://github.com/back-stack/platform/compare/main...idp/add-pay?expand=1"},
		{"", "https://github.com/back-stack/platform", "https://github.com/back-stack/platform/compare/main...idp/add-pay?expand=1"},
		{"", "git@github.com:back-stack/platform.git", "https://github.com/back-stack/platform/compare/main...idp/add-pay?expand=1"},
		{"", "ssh://git@github.com/back-stack/platform.git", "https://github.com/back-stack/platform/compare/main...idp/add-pay?expand=1"},
		{"", "https://dev.azure.com/contoso/Platform/_git/gitops", "https://dev.azure.com/contoso/Platform/_git/gitops/pullrequestcreate?sourceRef=idp%2Fadd-pay&targetRef=main"},
		{"", "https://contoso@dev.azure.com/contoso/Platform/_git/gitops", "https://dev.azure.com/contoso/Platform/_git/gitops/pullrequestcreate?sourceRef=idp%2Fadd-pay&targetRef=main"},
		{"", "git@ssh.dev.azure.com:v3/contoso/Platform/gitops", "https://dev.azure.com/contoso/Platform/_git/gitops/pullrequestcreate?sourceRef=idp%2Fadd-pay&targetRef=main"},
		{"", "https://contoso.visualstudio.com/Platform/_git/gitops", "https://contoso.visualstudio.com/Platform/_git/gitops/pullrequestcreate?sourceRef=idp%2Fadd-pay&targetRef=main"},
		{"", "https://dev.azure.com/contoso/Platform", ""},
		{"", "https://codeberg.org/ops/gitops.git", "https://codeberg.org/ops/gitops/compare/main...idp/add-pay"},
		{"", "https://gitea.example.com:3000/ops/gitops.git", "https://gitea.example.com:3000/ops/gitops/compare/main...idp/add-pay"},
		{"", "git@gitea.example.com:ops/gitops.git", "https://gitea.example.com/ops/gitops/compare/main...idp/add-pay"},
		{"", "https://gitlab.com/ops/gitops.git", ""},
		{"", "http://127.0.0.1:8080/gitops.git", ""},
		{"", "/srv/git/gitops.git", ""},
		{"github", "https://github.example.com/ops/gitops.git", "https://github.example.com/ops/gitops/compare/main...idp/add-pay?expand=1"},
		{"github", "git@github.example.com:ops/gitops.git", "https://github.example.com/ops/gitops/compare/main...idp/add-pay?expand=1"},
		{"gitea", "https://git.example.com/ops/gitops.git", "https://git.example.com/ops/gitops/compare/main...idp/add-pay"},
		{"azure", "https://tfs.example.com/tfs/Contoso/Platform/_git/gitops", "https://tfs.example.com/tfs/Contoso/Platform/_git/gitops/pullrequestcreate?sourceRef=idp%2Fadd-pay&targetRef=main"},
	} {
		if got := CompareURL(tc.forge, tc.remote, "main", "idp/add-pay"); got != tc.want {
			t.Errorf("CompareURL(%q, %q) = %q, want %q", tc.forge, tc.remote, got, tc.want)
		}
	}
}

func TestPRURLFromMessages(t *testing.T) {
	for name, tc := range map[string]struct {
		lines []string
		want  string
	}{
		"github": {[]string{"Resolving deltas: 100% (1/1)", "Create a pull request for 'idp/x' on GitHub by visiting:", "https://github.example.com/o/r/pull/new/idp/x"}, "https://github.example.com/o/r/pull/new/idp/x"},
		"gitea":  {[]string{"Create a new pull request for 'idp/x':", "  https://git.example.com/o/r/compare/main...idp/x"}, "https://git.example.com/o/r/compare/main...idp/x"},
		"gitlab": {[]string{"To create a merge request for idp/x, visit:", "https://gitlab.example.com/o/r/-/merge_requests/new?merge_request%5Bsource_branch%5D=idp%2Fx"}, "https://gitlab.example.com/o/r/-/merge_requests/new?merge_request%5Bsource_branch%5D=idp%2Fx"},
		"none":   {[]string{"see https://example.com/docs"}, ""},
	} {
		if got := prURLFromMessages(tc.lines); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
