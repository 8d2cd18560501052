package gitops

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// CompareURL is the web page that opens a pull request from head into base,
// or "" when the forge is not known. forge is "github", "azure" or "gitea";
// "" recognises github.com, dev.azure.com (and *.visualstudio.com),
// codeberg.org, gitea.com and hosts whose name contains "gitea". Give forge
// for self-hosted GitHub Enterprise or Gitea under another name.
func CompareURL(forge, remote, base, head string) string {
	ep, err := transport.NewEndpoint(remote)
	if err != nil {
		return ""
	}
	host := strings.ToLower(ep.Host)
	switch forge {
	case "github":
		host = "github.com"
	case "gitea":
		host = "gitea"
	}
	webHost := ep.Host
	if ep.Protocol != "ssh" && ep.Port != 0 && ep.Port != 443 && ep.Port != 80 {
		webHost = ep.Host + ":" + strconv.Itoa(ep.Port)
	}
	path := strings.Trim(strings.TrimSuffix(strings.Trim(ep.Path, "/"), ".git"), "/")
	parts := strings.Split(path, "/")
	web := func(h, p string) string { return "https://" + h + "/" + p }
	compare := func(h string) string {
		return web(h, path) + "/compare/" + escapeBranch(base) + "..." + escapeBranch(head)
	}
	switch {
	case host == "github.com" || host == "www.github.com":
		if len(parts) != 2 {
			return ""
		}
		return compare(strings.TrimPrefix(webHost, "www.")) + "?expand=1"
	case host == "dev.azure.com" || host == "ssh.dev.azure.com" || strings.HasSuffix(host, ".visualstudio.com") || forge == "azure":
		q := "/pullrequestcreate?" + url.Values{"sourceRef": {head}, "targetRef": {base}}.Encode()
		switch {
		case host == "ssh.dev.azure.com":
			if len(parts) != 4 || parts[0] != "v3" {
				return ""
			}
			return web("dev.azure.com", parts[1]+"/"+parts[2]+"/_git/"+parts[3]) + q
		case ep.Protocol == "http" || ep.Protocol == "https":
			// the repository's https URL is its web page, on dev.azure.com,
			// *.visualstudio.com and Azure DevOps Server alike
			if i := indexOf(parts, "_git"); i < 1 || i != len(parts)-2 {
				return ""
			}
			scheme := "https://"
			if ep.Protocol == "http" {
				scheme = "http://"
			}
			return scheme + webHost + "/" + path + q
		}
		return ""
	case host == "codeberg.org" || host == "gitea.com" || strings.Contains(host, "gitea"):
		if len(parts) != 2 {
			return ""
		}
		scheme := "https://"
		if ep.Protocol == "http" {
			scheme = "http://"
		}
		return strings.Replace(compare(webHost), "https://", scheme, 1)
	}
	return ""
}

func indexOf(parts []string, s string) int {
	for i, p := range parts {
		if p == s {
			return i
		}
	}
	return -1
}

func escapeBranch(b string) string {
	parts := strings.Split(b, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

var urlInText = regexp.MustCompile(`https?://[^\s'"<>]+`)

// prURLFromMessages finds the link a server prints while it takes a push
// of a new branch ("Create a pull request for 'x' on GitHub by visiting:
// URL", Gitea's "Create a new pull request for 'x':" followed by the URL,
// GitLab's merge request link), for hosts CompareURL does not know. Only
// what the server prints before its status report arrives: go-git stops
// reading there, so post-receive hook output is not seen.
func prURLFromMessages(lines []string) string {
	for i, l := range lines {
		low := strings.ToLower(l)
		if !strings.Contains(low, "pull request") && !strings.Contains(low, "merge request") {
			continue
		}
		for j := i; j < len(lines) && j <= i+2; j++ {
			if u := urlInText.FindString(lines[j]); u != "" {
				return u
			}
		}
	}
	return ""
}
