package templates

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/back-stack/idp/platform/nunjucks"
)

// Env is what a run knows about the world, without asking it.
type Env struct {
	// Repo predicts the clone and web URLs the forge will give the service
	// repository owner/name (owner "" for the forge's default).
	Repo func(owner, name string) (cloneURL, webURL string)
	// User is ${{ user }}: Backstage's {entity, ref}; may be nil.
	User map[string]any
}

// RepoRequest is the service repository to create (from idp:publish or
// publish:github).
type RepoRequest struct {
	Name          string `json:"name"`
	Owner         string `json:"owner,omitempty"`
	Description   string `json:"description,omitempty"`
	Private       bool   `json:"private"`
	DefaultBranch string `json:"defaultBranch"`
	// SourcePath is the folder of the workspace that becomes the repository.
	SourcePath    string `json:"sourcePath,omitempty"`
	CommitMessage string `json:"commitMessage"`
	CloneURL      string `json:"cloneURL"`
	WebURL        string `json:"webURL,omitempty"`
}

// ApplicationRequest is the Argo CD Application to add (idp:application).
type ApplicationRequest struct {
	Name            string `json:"name"`
	RepoURL         string `json:"repoURL"`
	Path            string `json:"path"`
	Revision        string `json:"revision"`
	Namespace       string `json:"namespace"`
	Project         string `json:"project"`
	Automated       bool   `json:"automated"`
	Prune           bool   `json:"prune"`
	SelfHeal        bool   `json:"selfHeal"`
	CreateNamespace bool   `json:"createNamespace"`
}

// DatabaseRequest is the database to add (idp:database).
type DatabaseRequest struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Engine    string `json:"engine"`
	Size      string `json:"size"`
	Version   string `json:"version"`
	StorageGB int64  `json:"storageGB"`
}

// Plan is what a run of the template produces before anything is written.
type Plan struct {
	Template    string              `json:"template"`
	Values      map[string]any      `json:"values"`
	Files       []File              `json:"files"`
	Repo        *RepoRequest        `json:"repo,omitempty"`
	Application *ApplicationRequest `json:"application,omitempty"`
	Database    *DatabaseRequest    `json:"database,omitempty"`
	// Notes say what the run did not do and why (skipped steps, inputs idp
	// does not apply) and what debug:log said.
	Notes  []string `json:"notes,omitempty"`
	Output *Output  `json:"output,omitempty"`
}

// Execute validates the answers and runs the steps into a plan. It reads
// the template's files and nothing else.
func (t *Template) Execute(values map[string]any, env Env) (*Plan, error) {
	values = t.WithDefaults(values)
	if err := t.Validate(values); err != nil {
		return nil, err
	}
	ws := &workspace{files: map[string]File{}}
	plan := &Plan{Template: t.Name, Values: values}
	steps := map[string]any{}
	ctx := map[string]any{"parameters": values, "steps": steps, "user": env.User}
	for i, s := range t.Steps {
		label := fmt.Sprintf("step %d (%s)", i+1, stepLabel(s))
		if err := t.runSteps(s, label, ctx, steps, ws, plan, env); err != nil {
			return nil, err
		}
	}
	if plan.Repo != nil {
		plan.Files = ws.sorted(plan.Repo.SourcePath)
	} else {
		plan.Files = ws.sorted("")
	}
	if t.Output != nil {
		out, err := renderOutput(t.Output, ctx)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		plan.Output = out
	}
	return plan, nil
}

// sorted lists the files under dir, with paths relative to it.
func (w *workspace) sorted(dir string) []File {
	var out []File
	for _, f := range w.files {
		if dir != "" {
			rest, ok := strings.CutPrefix(f.Path, dir+"/")
			if !ok {
				continue
			}
			f.Path = rest
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func stepEnabled(cond any, ctx map[string]any) (bool, error) {
	switch c := cond.(type) {
	case nil:
		return true, nil
	case bool:
		return c, nil
	case string:
		v, ok, err := renderValue(c, ctx)
		if err != nil || !ok {
			return false, err
		}
		if arr, isArr := v.([]any); isArr {
			return len(arr) > 0, nil
		}
		return v != false && v != nil && v != int64(0) && v != 0.0 && v != "", nil
	}
	return false, fmt.Errorf("want a boolean or an expression, got %v", cond)
}

func renderValue(src string, ctx map[string]any) (any, bool, error) {
	t, err := nunjucks.Parse(src, nunjucks.Options{})
	if err != nil {
		return nil, false, err
	}
	return t.Value(ctx)
}

// renderInput renders every string in the input as Backstage does: a
// string that is one expression keeps its type, one that renders to
// nothing leaves its key out.
func renderInput(in map[string]any, ctx map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		v, ok, err := renderAny(in[k], ctx)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", k, err)
		}
		if ok {
			out[k] = v
		}
	}
	return out, nil
}

func renderAny(v any, ctx map[string]any) (any, bool, error) {
	switch t := v.(type) {
	case string:
		return renderValue(t, ctx)
	case map[string]any:
		m, err := renderInput(t, ctx)
		return m, true, err
	case []any:
		out := make([]any, 0, len(t))
		for i, e := range t {
			r, ok, err := renderAny(e, ctx)
			if err != nil {
				return nil, false, fmt.Errorf("item %d: %w", i+1, err)
			}
			if ok {
				out = append(out, r)
			}
		}
		return out, true, nil
	}
	return v, v != nil, nil
}

func renderOutput(o *Output, ctx map[string]any) (*Output, error) {
	out := &Output{}
	str := func(s string) (string, error) {
		v, ok, err := renderValue(s, ctx)
		if err != nil || !ok {
			return "", err
		}
		return jsText(v), nil
	}
	for i, l := range o.Links {
		show, err := stepEnabled(l.If, ctx)
		if err != nil {
			return nil, fmt.Errorf("links[%d].if: %w", i, err)
		}
		if !show {
			continue
		}
		r := Link{Icon: l.Icon}
		if r.Title, err = str(l.Title); err != nil {
			return nil, fmt.Errorf("links[%d].title: %w", i, err)
		}
		if r.URL, err = str(l.URL); err != nil {
			return nil, fmt.Errorf("links[%d].url: %w", i, err)
		}
		if r.EntityRef, err = str(l.EntityRef); err != nil {
			return nil, fmt.Errorf("links[%d].entityRef: %w", i, err)
		}
		if r.URL != "" || r.EntityRef != "" {
			out.Links = append(out.Links, r)
		}
	}
	for i, tx := range o.Text {
		show, err := stepEnabled(tx.If, ctx)
		if err != nil {
			return nil, fmt.Errorf("text[%d].if: %w", i, err)
		}
		if !show {
			continue
		}
		r := Text{Icon: tx.Icon}
		if r.Title, err = str(tx.Title); err != nil {
			return nil, fmt.Errorf("text[%d].title: %w", i, err)
		}
		if r.Content, err = str(tx.Content); err != nil {
			return nil, fmt.Errorf("text[%d].content: %w", i, err)
		}
		out.Text = append(out.Text, r)
	}
	for _, k := range o.order {
		v, ok, err := renderAny(o.Values[k], ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if ok {
			if out.Values == nil {
				out.Values = map[string]any{}
			}
			out.Values[k] = v
			out.order = append(out.order, k)
		}
	}
	return out, nil
}

// jsText is String(v) for what expressions return.
func jsText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case float64:
		if t == float64(int64(t)) {
			return fmt.Sprint(int64(t))
		}
	}
	return fmt.Sprint(v)
}

// input reads typed inputs with clear errors.
type input map[string]any

func (in input) str(key, def string) (string, error) {
	v, ok := in[key]
	if !ok {
		return def, nil
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case int64, float64, bool:
		return fmt.Sprint(t), nil
	}
	return "", fmt.Errorf("input %s must be text, got %v", key, v)
}

func (in input) boolean(key string, def bool) (bool, error) {
	v, ok := in[key]
	if !ok {
		return def, nil
	}
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		switch t {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("input %s must be true or false, got %v", key, v)
}

func (in input) strings(key string) ([]string, error) {
	v, ok := in[key]
	if !ok {
		return nil, nil
	}
	list, isList := v.([]any)
	if s, isStr := v.(string); isStr {
		list, isList = []any{s}, true
	}
	if !isList {
		return nil, fmt.Errorf("input %s must be a list of text, got %v", key, v)
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("input %s item %d must be text, got %v", key, i+1, e)
		}
		out[i] = s
	}
	return out, nil
}

var errNoRepo = errors.New("no repository is published before this step: add an idp:publish step first or give repoUrl")

func publish(action string, in input, plan *Plan, env Env) (map[string]any, error) {
	if plan.Repo != nil {
		return nil, errors.New("the template publishes a repository twice; idp creates one service repository per run")
	}
	r := &RepoRequest{Private: true}
	var err error
	if action == ActionPublishGitHub {
		u, err := in.str("repoUrl", "")
		if err != nil {
			return nil, err
		}
		parts, err := nunjucks.ParseRepoURL(u)
		if err != nil {
			return nil, err
		}
		r.Name, _ = parts["repo"].(string)
		r.Owner, _ = parts["owner"].(string)
		vis, err := in.str("repoVisibility", "private")
		if err != nil {
			return nil, err
		}
		r.Private = vis != "public"
	} else {
		if r.Name, err = in.str("name", ""); err != nil {
			return nil, err
		}
		if r.Owner, err = in.str("owner", ""); err != nil {
			return nil, err
		}
		if r.Private, err = in.boolean("private", true); err != nil {
			return nil, err
		}
	}
	if err := CheckDNSLabel(r.Name); err != nil {
		return nil, fmt.Errorf("repository name: %w", err)
	}
	if r.Description, err = in.str("description", ""); err != nil {
		return nil, err
	}
	if r.DefaultBranch, err = in.str("defaultBranch", "main"); err != nil {
		return nil, err
	}
	if r.CommitMessage, err = in.str("gitCommitMessage", "Initial commit"); err != nil {
		return nil, err
	}
	src, err := in.str("sourcePath", "")
	if err != nil {
		return nil, err
	}
	if r.SourcePath, err = CleanRelPath(strings.TrimPrefix(src, "./")); err != nil {
		return nil, fmt.Errorf("sourcePath: %w", err)
	}
	if env.Repo == nil {
		return nil, errors.New("no forge is configured to publish to")
	}
	r.CloneURL, r.WebURL = env.Repo(r.Owner, r.Name)
	plan.Repo = r
	web := r.WebURL
	if web == "" {
		web = r.CloneURL
	}
	return map[string]any{
		"remoteUrl":       r.CloneURL,
		"repoContentsUrl": web,
		"repoUrl":         web,
	}, nil
}

func application(in input, plan *Plan) (map[string]any, error) {
	a := &ApplicationRequest{}
	var err error
	if a.Name, err = in.str("name", ""); err != nil {
		return nil, err
	}
	if err := CheckDNSLabel(a.Name); err != nil {
		return nil, fmt.Errorf("application name: %w", err)
	}
	defRepo, defBranch := "", "main"
	if plan.Repo != nil {
		defRepo, defBranch = plan.Repo.CloneURL, plan.Repo.DefaultBranch
	}
	if a.RepoURL, err = in.str("repoUrl", defRepo); err != nil {
		return nil, err
	}
	if a.RepoURL == "" {
		return nil, errNoRepo
	}
	if a.Path, err = in.str("path", "deploy"); err != nil {
		return nil, err
	}
	if a.Path, err = CleanRelPath(strings.TrimPrefix(a.Path, "./")); err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	if a.Revision, err = in.str("revision", defBranch); err != nil {
		return nil, err
	}
	if a.Namespace, err = in.str("namespace", a.Name); err != nil {
		return nil, err
	}
	if err := CheckDNSLabel(a.Namespace); err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	if a.Project, err = in.str("project", "default"); err != nil {
		return nil, err
	}
	policy, err := in.str("syncPolicy", "automated")
	if err != nil {
		return nil, err
	}
	switch policy {
	case "automated":
		a.Automated = true
	case "manual":
	default:
		return nil, fmt.Errorf("syncPolicy is %q; want automated or manual", policy)
	}
	if a.Prune, err = in.boolean("prune", true); err != nil {
		return nil, err
	}
	if a.SelfHeal, err = in.boolean("selfHeal", true); err != nil {
		return nil, err
	}
	if a.CreateNamespace, err = in.boolean("createNamespace", true); err != nil {
		return nil, err
	}
	if plan.Application != nil {
		return nil, errors.New("the template adds two Applications; idp adds one per run")
	}
	plan.Application = a
	return map[string]any{"name": a.Name, "namespace": a.Namespace}, nil
}

// DatabaseSizes are the sizes the platform's database API offers.
var DatabaseSizes = []string{"small", "medium", "large"}

// DatabaseVersions are the PostgreSQL major versions it offers.
var DatabaseVersions = []string{"15", "16", "17"}

func database(in input, plan *Plan) (map[string]any, error) {
	d := &DatabaseRequest{}
	var err error
	if d.Name, err = in.str("name", ""); err != nil {
		return nil, err
	}
	if err := CheckDNSLabel(d.Name); err != nil {
		return nil, fmt.Errorf("database name: %w", err)
	}
	defNS := d.Name
	if plan.Application != nil {
		defNS = plan.Application.Namespace
	}
	if d.Namespace, err = in.str("namespace", defNS); err != nil {
		return nil, err
	}
	if err := CheckDNSLabel(d.Namespace); err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	if d.Engine, err = in.str("engine", "postgresql"); err != nil {
		return nil, err
	}
	if d.Engine != "postgresql" {
		return nil, fmt.Errorf("engine is %q; the platform offers postgresql", d.Engine)
	}
	if d.Size, err = in.str("size", "small"); err != nil {
		return nil, err
	}
	if !slices.Contains(DatabaseSizes, d.Size) {
		return nil, fmt.Errorf("size is %q; want one of %s", d.Size, strings.Join(DatabaseSizes, ", "))
	}
	if d.Version, err = in.str("version", "16"); err != nil {
		return nil, err
	}
	if !slices.Contains(DatabaseVersions, d.Version) {
		return nil, fmt.Errorf("version is %q; want one of %s", d.Version, strings.Join(DatabaseVersions, ", "))
	}
	d.StorageGB = 32
	if v, ok := in["storageGB"]; ok {
		f, isNum := toFloat(v)
		if !isNum || f != float64(int64(f)) || f < 32 || f > 16384 {
			return nil, fmt.Errorf("storageGB is %v; want a whole number from 32 to 16384", v)
		}
		d.StorageGB = int64(f)
	}
	if plan.Database != nil {
		return nil, errors.New("the template adds two databases; idp adds one per run")
	}
	plan.Database = d
	return map[string]any{"name": d.Name, "namespace": d.Namespace}, nil
}

// Content returns the file with path p from the plan, or nil.
func (p *Plan) Content(path string) []byte {
	for _, f := range p.Files {
		if f.Path == path {
			return f.Content
		}
	}
	return nil
}
