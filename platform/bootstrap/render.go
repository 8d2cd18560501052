// Render turns the platform configuration the bootstrap wizard collects
// into the GitOps repository's platform manifests; Commit (commit.go)
// commits them, before anything is installed.
//
// The rendered repository:
//
//	bootstrap/root.yaml                  the app-of-apps (Application "root" -> platform/, recursive)
//	bootstrap/infrastructure.yaml        Application -> infrastructure/, applied once AKS has adopted it
//	platform/argocd/application.yaml     Argo CD's chart: Argo CD manages itself
//	platform/crossplane/application.yaml Crossplane's chart
//	platform/crossplane/*.yaml           providers, function, runtime config, activation policy, ClusterProviderConfig
//	platform/crossplane/xrds/            the platform's XRDs (AKS, ACR, identity, database)
//	platform/crossplane/compositions/    their Pipeline compositions (function-patch-and-transform)
//	platform/{kyverno,ingress-nginx,cert-manager}/application.yaml  add-on charts
//	platform/apps/application.yaml       Application -> apps/ (the services idp new writes)
//	infrastructure/                      namespace and XRs: AKS, ACR, the Crossplane workload identity
//	apps/.gitkeep                        so the apps Application has a folder before the first service
//	.idp/platform.yaml                   the configuration itself
//
// The root Application applies everything under platform/ in sync-wave
// order (the Wave constants); each wave must be healthy before the next.

package bootstrap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/platform/platformconfig"
)

// Namespaces and names the rendered manifests use.
const (
	ArgoCDNamespace         = "argocd"
	CrossplaneNamespace     = "crossplane-system"
	InfrastructureNamespace = "infrastructure"
	// XRGroup is the API group of the platform's composite resources.
	XRGroup = "platform.back-stack.io"
	// RootApplication is the app-of-apps' name; RootPath its file.
	RootApplication = "root"
	RootPath        = "bootstrap/root.yaml"
	// HandoverManifest is the infrastructure Application: not under
	// platform/ (the root would create the XRs on AKS before the adoption),
	// the pipeline applies it when Crossplane on AKS has taken over.
	HandoverManifest = "bootstrap/infrastructure.yaml"
	// ProviderServiceAccount is the service account every provider-azure
	// package runs as (in CrossplaneNamespace).
	ProviderServiceAccount = "provider-azure"
)

// Sync syncWaves of what the root Application applies. Argo CD applies a wave,
// waits until all of it is healthy, then goes on: CRDs arrive (charts,
// then packages) before the objects of those kinds.
const (
	WaveArgoCD         = -30 // Argo CD's own chart
	WaveCharts         = -20 // Crossplane and cert-manager charts
	WavePackages       = -10 // providers, the function, runtime config, activation policy
	WaveAPIs           = 0   // the ClusterProviderConfig and the XRDs
	WaveCompositions   = 10  // compositions; the kyverno and ingress-nginx charts
	WaveInfrastructure = 20  // the infrastructure Application (XRs)
	WaveApps           = 30  // the apps Application (services)
	// Inside the infrastructure Application.
	WaveInfraNamespace = -10
	WaveXRs            = 0
)

var syncWaves = map[string]int{
	"argocd":          WaveArgoCD,
	"crossplane":      WaveCharts,
	"cert-manager":    WaveCharts,
	"packages":        WavePackages,
	"providerconfig":  WaveAPIs,
	"xrds":            WaveAPIs,
	"compositions":    WaveCompositions,
	"addons":          WaveCompositions,
	"infrastructure":  WaveInfrastructure,
	"apps":            WaveApps,
	"infra-namespace": WaveInfraNamespace,
	"xrs":             WaveXRs,
}

// CredentialsSecret is the Secret the ClusterProviderConfig reads Azure
// credentials from (a service principal's JSON, as `az ad sp
// create-for-rbac --sdk-auth` prints it). The bootstrap creates it on each
// cluster; it is never rendered or committed.
var CredentialsSecret = SecretRef{Namespace: CrossplaneNamespace, Name: "azure-credentials", Key: "credentials"}

// KubeconfigSecret is where Crossplane writes the AKS cluster's kubeconfig.
func KubeconfigSecret(cfg platformconfig.Config) SecretRef {
	return SecretRef{Namespace: InfrastructureNamespace, Name: aksXRName(cfg) + "-kubeconfig", Key: "kubeconfig"}
}

// IdentityID is the Azure resource ID of the workload identity Crossplane
// runs as on AKS; the identity's name is "<AKS name>-crossplane".
func IdentityID(cfg platformconfig.Config) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s-crossplane",
		cfg.Azure.SubscriptionID, cfg.Azure.ResourceGroup, cfg.Azure.AKS.Name)
}

func aksXRName(cfg platformconfig.Config) string { return cfg.Azure.AKS.DNSPrefix() }

// File is one rendered file.
type File struct {
	Path    string
	Content []byte
}

// Files are the rendered files, sorted by path.
type Files []File

// Paths lists the files' paths.
func (files Files) Paths() []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

// Get returns the content at p.
func (files Files) Get(p string) ([]byte, bool) {
	for _, f := range files {
		if f.Path == p {
			return f.Content, true
		}
	}
	return nil, false
}

// Map is the files by path, as the bootstrap pipeline takes them
// (PipelineConfig.Manifests).
func (files Files) Map() map[string][]byte {
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		out[f.Path] = f.Content
	}
	return out
}

// manifestData is what the templates see.
type manifestData struct {
	Config                 platformconfig.Config
	RepoURL, Branch        string
	RootApp                string
	ArgoCDNamespace        string
	CrossplaneNamespace    string
	InfraNamespace         string
	XRGroup                string
	XRKinds                []string
	XRSyncOptions          string
	ProviderServiceAccount string
	Credentials            SecretRef
	AKS                    struct{ XRName, KubeconfigSecret string }
	ACR                    struct{ XRName string }
	Identity               struct{ XRName, ID, Subject string }
	Providers              []providerPackage
	Activations            []string
}

type providerPackage struct{ Name, Package string }

// The templates' own files; helpers holds shared definitions.
const (
	templateExt = ".tmpl"
	helpersFile = "helpers.gotmpl"
	compsDir    = "platform/crossplane/compositions/"
)

// Render validates cfg for the bootstrap and renders the platform's
// manifests and .idp/platform.yaml. The same configuration always renders
// the same bytes.
func Render(cfg platformconfig.Config) (Files, error) {
	if err := cfg.ValidateForBootstrap(); err != nil {
		return nil, fmt.Errorf("the platform configuration is not ready for the bootstrap:\n%w", err)
	}
	d := newManifestData(cfg)
	src := assets.PlatformManifests()
	base, err := baseTemplate(src, &d)
	if err != nil {
		return nil, err
	}
	var names []string
	err = fs.WalkDir(src, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, templateExt) {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(names, func(i, j int) bool { // compositions first: the rest depends on them
		return strings.HasPrefix(names[i], compsDir) && !strings.HasPrefix(names[j], compsDir)
	})

	out := map[string][]byte{}
	derived := false
	for _, name := range names {
		if !derived && !strings.HasPrefix(name, compsDir) {
			db, err := databaseFiles(cfg)
			if err != nil {
				return nil, err
			}
			for p, c := range db {
				out[p] = c
			}
			if d.Providers, d.Activations, err = managedResources(out); err != nil {
				return nil, err
			}
			derived = true
		}
		text, err := fs.ReadFile(src, name)
		if err != nil {
			return nil, err
		}
		t, err := base.Clone()
		if err == nil {
			t, err = t.New(name).Parse(string(text))
		}
		if err != nil {
			return nil, fmt.Errorf("bootstrap: template %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			return nil, fmt.Errorf("bootstrap: rendering %s: %w", name, err)
		}
		out[strings.TrimSuffix(name, templateExt)] = buf.Bytes()
	}
	conf, err := platformconfig.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	out[platformconfig.Path] = conf
	out["apps/.gitkeep"] = nil

	files := make(Files, 0, len(out))
	for p, c := range out {
		files = append(files, File{Path: p, Content: c})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".yaml") {
			if _, err := decodeYAMLDocs(f.Content); err != nil {
				return nil, fmt.Errorf("bootstrap: rendered %s is not YAML: %w", f.Path, err)
			}
		}
	}
	if err := CheckNoSecrets(files, cfg.Secrets.Allow); err != nil {
		return nil, err
	}
	return files, nil
}

func newManifestData(cfg platformconfig.Config) manifestData {
	d := manifestData{
		Config:                 cfg,
		RepoURL:                cfg.GitOps.URL,
		Branch:                 cfg.GitOpsBranch(),
		RootApp:                RootApplication,
		ArgoCDNamespace:        ArgoCDNamespace,
		CrossplaneNamespace:    CrossplaneNamespace,
		InfraNamespace:         InfrastructureNamespace,
		XRGroup:                XRGroup,
		XRKinds:                []string{"AKSCluster", "ContainerRegistry", "ManagedIdentity", "PostgreSQLInstance"},
		XRSyncOptions:          "Delete=false,Prune=false,SkipDryRunOnMissingResource=true",
		ProviderServiceAccount: ProviderServiceAccount,
		Credentials:            CredentialsSecret,
	}
	d.AKS.XRName = aksXRName(cfg)
	d.AKS.KubeconfigSecret = KubeconfigSecret(cfg).Name
	d.ACR.XRName = cfg.Azure.ACR.Name
	d.Identity.XRName = d.AKS.XRName + "-crossplane"
	d.Identity.ID = IdentityID(cfg)
	d.Identity.Subject = "system:serviceaccount:" + CrossplaneNamespace + ":" + ProviderServiceAccount
	return d
}

func baseTemplate(src fs.FS, d *manifestData) (*template.Template, error) {
	helpers, err := fs.ReadFile(src, helpersFile)
	if err != nil {
		return nil, err
	}
	t := template.New(helpersFile).Option("missingkey=error")
	t.Funcs(template.FuncMap{
		"q": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"wave": func(name string) (string, error) {
			w, ok := syncWaves[name]
			if !ok {
				return "", fmt.Errorf("no sync wave %q", name)
			}
			return strconv.Quote(strconv.Itoa(w)), nil
		},
		"vtag": func(v string) string {
			if strings.HasPrefix(v, "v") {
				return v
			}
			return "v" + v
		},
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			lines := strings.Split(s, "\n")
			for i, l := range lines {
				if l != "" {
					lines[i] = pad + l
				}
			}
			return strings.Join(lines, "\n")
		},
		"include": func(name string, data any) (string, error) {
			var b strings.Builder
			err := t.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
	})
	return t.Parse(string(helpers))
}
