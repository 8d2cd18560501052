package templates

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Actions idp runs. A template with any other action loads, is listed with
// the reason it cannot run, and runs nowhere.
const (
	ActionFetchTemplate     = "fetch:template"
	ActionFetchTemplateFile = "fetch:template:file"
	ActionFetchPlain        = "fetch:plain"
	ActionFetchPlainFile    = "fetch:plain:file"
	ActionPublishGitHub     = "publish:github"
	ActionPublish           = "idp:publish"
	ActionApplication       = "idp:application"
	ActionDatabase          = "idp:database"
	ActionLog               = "debug:log"
	ActionWait              = "debug:wait"
	ActionRename            = "fs:rename"
	ActionDelete            = "fs:delete"
	ActionReaddir           = "fs:readdir"
	ActionCatalogWrite      = "catalog:write"
	ActionCatalogRegister   = "catalog:register"
)

type actionDef struct {
	inputs   []string          // applied
	required []string          // of inputs
	ignored  map[string]string // accepted, not applied: why
	skip     string            // the whole action is skipped: why
}

var githubIgnored = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"access", "protectDefaultBranch", "protectEnforceAdmins", "requireCodeOwnerReviews",
		"requiredStatusCheckContexts", "requireBranchesToBeUpToDate", "dismissStaleReviews", "deleteBranchOnMerge",
		"allowMergeCommit", "allowSquashMerge", "allowRebaseMerge", "allowAutoMerge", "collaborators", "hasWiki",
		"hasProjects", "hasIssues", "homepage", "requiredApprovingReviewCount", "bypassPullRequestAllowances",
		"repoVariables", "secrets", "gitAuthorName", "gitAuthorEmail", "token", "requiredCommitSigning",
		"requiredLinearHistory", "squashMergeCommitTitle", "squashMergeCommitMessage", "customProperties",
		"restrictions", "requiredConversationResolution", "oidcCustomization", "allowUpdateBranch",
		"subscribe", "blockCreations", "requireLastPushApproval", "autoInit", "workflowAccess"} {
		m[k] = "repository settings beyond creation are left to the forge"
	}
	m["allowedHosts"] = "idp publishes only to the forge it is configured with"
	return m
}()

var fetchIgnored = map[string]string{"token": "idp reads skeletons with its own Git credentials"}

var actions = map[string]actionDef{
	ActionFetchTemplate: {
		inputs:   []string{"url", "targetPath", "values", "copyWithoutTemplating", "copyWithoutRender", "templateFileExtension", "cookiecutterCompat", "replace", "trimBlocks", "lstripBlocks"},
		required: []string{"url"},
		ignored:  fetchIgnored,
	},
	ActionFetchTemplateFile: {
		inputs:   []string{"url", "targetPath", "values", "cookiecutterCompat", "replace", "trimBlocks", "lstripBlocks"},
		required: []string{"url", "targetPath"},
		ignored:  fetchIgnored,
	},
	ActionFetchPlain: {
		inputs:   []string{"url", "targetPath"},
		required: []string{"url"},
		ignored:  fetchIgnored,
	},
	ActionFetchPlainFile: {
		inputs:   []string{"url", "targetPath"},
		required: []string{"url", "targetPath"},
		ignored:  fetchIgnored,
	},
	ActionPublishGitHub: {
		inputs:   []string{"repoUrl", "description", "defaultBranch", "repoVisibility", "sourcePath", "gitCommitMessage", "topics"},
		required: []string{"repoUrl"},
		ignored:  githubIgnored,
	},
	ActionPublish: {
		inputs:   []string{"name", "owner", "description", "private", "defaultBranch", "sourcePath", "gitCommitMessage"},
		required: []string{"name"},
	},
	ActionApplication: {
		inputs:   []string{"name", "repoUrl", "path", "revision", "namespace", "project", "syncPolicy", "prune", "selfHeal", "createNamespace"},
		required: []string{"name"},
	},
	ActionDatabase: {
		inputs:   []string{"name", "namespace", "engine", "size", "version", "storageGB"},
		required: []string{"name"},
	},
	ActionLog:     {inputs: []string{"message", "listWorkspace", "extra"}},
	ActionWait:    {inputs: []string{"minutes", "seconds", "milliseconds"}},
	ActionRename:  {inputs: []string{"files"}, required: []string{"files"}},
	ActionDelete:  {inputs: []string{"files"}, required: []string{"files"}},
	ActionReaddir: {inputs: []string{"paths", "recursive"}, required: []string{"paths"}},
	ActionCatalogWrite: {
		inputs:   []string{"filePath", "entity"},
		required: []string{"entity"},
	},
	ActionCatalogRegister: {
		inputs: []string{"repoContentsUrl", "catalogInfoPath", "catalogInfoUrl", "optional"},
		skip:   "it registers the service in a Backstage catalog, and no Backstage is configured",
	},
}

// backstageOnly are Backstage's own actions that need something idp does
// not have in a run; a template that uses them is refused with the reason.
var backstageOnly = map[string]string{
	"catalog:fetch":                "it reads entities from a Backstage catalog, which idp does not query",
	"publish:github:pull-request":  "idp does not open pull requests on existing repositories yet",
	"publish:gitlab":               "idp does not publish to GitLab yet",
	"publish:gitlab:merge-request": "idp does not open GitLab merge requests yet",
	"publish:azure":                "idp does not publish to Azure DevOps yet",
	"publish:bitbucket":            "idp does not publish to Bitbucket",
	"publish:bitbucketCloud":       "idp does not publish to Bitbucket",
	"publish:bitbucketServer":      "idp does not publish to Bitbucket",
	"publish:gerrit":               "idp does not publish to Gerrit",
	"publish:gitea":                "idp does not publish to Gitea through this action; use publish:github's forge settings",
	"github:actions:dispatch":      "idp does not dispatch GitHub Actions workflows yet",
	"github:webhook":               "idp does not add GitHub webhooks yet",
	"github:repo:create":           "use publish:github, which creates and pushes in one step",
	"github:repo:push":             "use publish:github, which creates and pushes in one step",
	"fetch:cookiecutter":           "it runs cookiecutter in a container; idp renders Nunjucks skeletons only",
	"fetch:rails":                  "it runs rails new in a container",
	"run:yeoman":                   "it runs a Yeoman generator",
	"argocd:create-resources":      "idp writes the Application with idp:application, as a GitOps commit",
	"kube:apply":                   "idp does not apply objects to a cluster outside Git yet",
}

// plugins names the Backstage plugins that provide actions outside
// Backstage itself, by the prefix of the action.
var plugins = map[string]string{
	"roadiehq:utils:":        "@roadiehq/scaffolder-backend-module-utils",
	"roadiehq:aws:":          "@roadiehq/scaffolder-backend-module-aws",
	"http:backstage:request": "@roadiehq/scaffolder-backend-module-http-request",
	"quarkus:":               "the Quarkus scaffolder module (@qshift/plugin-quarkus-backend)",
	"sonarqube:":             "a SonarQube scaffolder module",
	"azure:pipeline:":        "@parfuemerie-douglas/scaffolder-backend-module-azure-pipelines",
	"azure:repo:":            "@parfuemerie-douglas/scaffolder-backend-module-azure-repositories",
	"jira:":                  "a Jira scaffolder module",
	"ms-teams:":              "a Microsoft Teams scaffolder module",
	"slack:":                 "a Slack scaffolder module",
	"confluence:":            "@backstage/plugin-scaffolder-backend-module-confluence-to-markdown",
	"sentry:":                "@backstage/plugin-scaffolder-backend-module-sentry",
	"gcp:":                   "@backstage/plugin-scaffolder-backend-module-gcp",
	"notification:":          "@backstage/plugin-scaffolder-backend-module-notifications",
	"annotator:":             "@janus-idp/backstage-scaffolder-backend-module-annotator",
	"terraform:":             "a Terraform scaffolder module",
}

// Actions lists the actions idp runs, for help and errors.
func Actions() []string { return slices.Sorted(maps.Keys(actions)) }

func checkStep(s *Step) error {
	def, ok := actions[s.Action]
	if !ok {
		return &RefusedError{Reason: refusal(s.Action)}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Input)) {
		if !slices.Contains(def.inputs, k) && def.ignored[k] == "" {
			return fmt.Errorf("action %s has no input %q (it takes %s)", s.Action, k, strings.Join(def.inputs, ", "))
		}
	}
	for _, k := range def.required {
		if _, ok := s.Input[k]; !ok {
			return fmt.Errorf("action %s needs the input %q", s.Action, k)
		}
	}
	return nil
}

func refusal(action string) string {
	if why, ok := backstageOnly[action]; ok {
		return fmt.Sprintf("action %s is not supported: %s", action, why)
	}
	for _, prefix := range slices.Sorted(maps.Keys(plugins)) {
		if strings.HasPrefix(action, prefix) {
			return fmt.Sprintf("action %s comes from the Backstage plugin %s, which idp does not run", action, plugins[prefix])
		}
	}
	return fmt.Sprintf("unknown action %q: neither idp nor Backstage's built-in actions provide it (a Backstage plugin may; idp runs %s)", action, strings.Join(Actions(), ", "))
}
