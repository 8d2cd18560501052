// Package scaffold turns a template's plan into what the platform gets: a
// service repository on a forge and, in the GitOps repository,
// apps/<name>/application.yaml (an Argo CD Application) and, when asked,
// apps/<name>/database.yaml (the platform's database API). The TUI's
// "New service" screen and `idp new` both go through it.
package scaffold

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/platform/templates"
)

// Labels idp puts on what it writes, so views can find a service's parts.
const (
	LabelService  = "idp.back-stack.io/service"
	LabelTemplate = "idp.back-stack.io/template"
	// SyncWave orders what the app-of-apps applies from apps/: the
	// namespace, then the database, then the Application.
	annotationSyncWave = "argocd.argoproj.io/sync-wave"
)

// The database API the platform ships in assets/platform/database.
const (
	DatabaseGroup   = "platform.back-stack.io"
	DatabaseVersion = "v1alpha1"
	DatabaseKind    = "PostgreSQLInstance"
)

// Options are the platform facts the manifests depend on.
type Options struct {
	// ArgoCDNamespace is where Applications live; default "argocd".
	ArgoCDNamespace string
	// DestinationServer is the cluster Applications deploy to; default the
	// one Argo CD runs in.
	DestinationServer string
	// CrossplaneAPI is platformconfig.CrossplaneV2 (a namespaced XR, the
	// default) or platformconfig.CrossplaneV1 (a claim).
	CrossplaneAPI string
}

func (o Options) withDefaults() Options {
	if o.ArgoCDNamespace == "" {
		o.ArgoCDNamespace = "argocd"
	}
	if o.DestinationServer == "" {
		o.DestinationServer = "https://kubernetes.default.svc"
	}
	if o.CrossplaneAPI == "" {
		o.CrossplaneAPI = platformconfig.CrossplaneV2
	}
	return o
}

// AppDir is the service's folder in the GitOps repository.
func AppDir(service string) string { return path.Join("apps", service) }

// Paths of a service's files in the GitOps repository.
func ApplicationPath(service string) string { return path.Join(AppDir(service), "application.yaml") }
func DatabasePath(service string) string    { return path.Join(AppDir(service), "database.yaml") }
func NamespacePath(service string) string   { return path.Join(AppDir(service), "namespace.yaml") }

type objectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	Finalizers  []string          `yaml:"finalizers,omitempty"`
}

type application struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       struct {
		Project string `yaml:"project"`
		Source  struct {
			RepoURL        string `yaml:"repoURL"`
			Path           string `yaml:"path"`
			TargetRevision string `yaml:"targetRevision"`
		} `yaml:"source"`
		Destination struct {
			Server    string `yaml:"server"`
			Namespace string `yaml:"namespace"`
		} `yaml:"destination"`
		SyncPolicy *syncPolicy `yaml:"syncPolicy,omitempty"`
	} `yaml:"spec"`
}

type syncPolicy struct {
	Automated *struct {
		Prune    bool `yaml:"prune"`
		SelfHeal bool `yaml:"selfHeal"`
	} `yaml:"automated,omitempty"`
	SyncOptions []string `yaml:"syncOptions,omitempty"`
}

func labels(service, template string) map[string]string {
	l := map[string]string{LabelService: service, "app.kubernetes.io/part-of": service}
	if template != "" {
		l[LabelTemplate] = template
	}
	return l
}

// ApplicationManifest is the Argo CD Application for a service: its
// deploy/ folder, synced to its namespace.
func ApplicationManifest(a *templates.ApplicationRequest, template string, o Options) ([]byte, error) {
	o = o.withDefaults()
	if err := checkApplication(a, template, o); err != nil {
		return nil, err
	}
	var app application
	app.APIVersion, app.Kind = "argoproj.io/v1alpha1", "Application"
	app.Metadata = objectMeta{
		Name: a.Name, Namespace: o.ArgoCDNamespace, Labels: labels(a.Name, template),
		// Deleting the Application deletes what it deployed.
		Finalizers: []string{"resources-finalizer.argocd.argoproj.io"},
	}
	app.Spec.Project = a.Project
	app.Spec.Source.RepoURL, app.Spec.Source.Path, app.Spec.Source.TargetRevision = a.RepoURL, a.Path, a.Revision
	app.Spec.Destination.Server, app.Spec.Destination.Namespace = o.DestinationServer, a.Namespace
	sp := &syncPolicy{}
	if a.Automated {
		sp.Automated = &struct {
			Prune    bool `yaml:"prune"`
			SelfHeal bool `yaml:"selfHeal"`
		}{a.Prune, a.SelfHeal}
	}
	if a.CreateNamespace {
		sp.SyncOptions = append(sp.SyncOptions, "CreateNamespace=true")
	}
	if sp.Automated != nil || len(sp.SyncOptions) > 0 {
		app.Spec.SyncPolicy = sp
	}
	return encode(app)
}

type database struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       struct {
		Parameters struct {
			Size      string `yaml:"size"`
			Version   string `yaml:"version"`
			StorageGB int64  `yaml:"storageGB"`
		} `yaml:"parameters"`
		// v2: the Secret the composition writes.
		ConnectionSecretName string `yaml:"connectionSecretName,omitempty"`
		// v1 claims: Crossplane's own field for the same.
		WriteConnectionSecretToRef *struct {
			Name string `yaml:"name"`
		} `yaml:"writeConnectionSecretToRef,omitempty"`
	} `yaml:"spec"`
}

// DatabaseManifest is the database for a service: a namespaced
// PostgreSQLInstance XR (Crossplane v2), or a PostgreSQLInstance claim of
// the same shape for platforms on v1 claims. Its connection Secret has the
// database's name.
func DatabaseManifest(d *templates.DatabaseRequest, service string, o Options) ([]byte, error) {
	o = o.withDefaults()
	if err := checkNames("idp:database", map[string]string{"name": d.Name, "namespace": d.Namespace}); err != nil {
		return nil, err
	}
	var db database
	db.APIVersion, db.Kind = DatabaseGroup+"/"+DatabaseVersion, DatabaseKind
	db.Metadata = objectMeta{
		Name: d.Name, Namespace: d.Namespace, Labels: labels(service, ""),
		Annotations: map[string]string{annotationSyncWave: "-1"},
	}
	db.Spec.Parameters.Size, db.Spec.Parameters.Version, db.Spec.Parameters.StorageGB = d.Size, d.Version, d.StorageGB
	switch o.CrossplaneAPI {
	case platformconfig.CrossplaneV2:
		db.Spec.ConnectionSecretName = d.Name
	case platformconfig.CrossplaneV1:
		db.Spec.WriteConnectionSecretToRef = &struct {
			Name string `yaml:"name"`
		}{d.Name}
	default:
		return nil, fmt.Errorf("crossplane API %q: want %s or %s", o.CrossplaneAPI, platformconfig.CrossplaneV2, platformconfig.CrossplaneV1)
	}
	return encode(db)
}

// NamespaceManifest is the service's namespace, written with a database:
// the database lives in it and is applied before the Application that
// would otherwise create it.
func NamespaceManifest(namespace, service string) ([]byte, error) {
	return encode(struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   objectMeta `yaml:"metadata"`
	}{"v1", "Namespace", objectMeta{
		Name: namespace, Labels: labels(service, ""),
		Annotations: map[string]string{annotationSyncWave: "-2"},
	}})
}

// checkApplication refuses values Argo CD or Kubernetes cannot use, before
// they are written: names must be what the API server accepts (an
// AppProject name is a DNS subdomain, a namespace a DNS label, a label value
// at most 63 characters of [A-Za-z0-9_.-]), and the source fields hold no
// control characters or spaces.
func checkApplication(a *templates.ApplicationRequest, template string, o Options) error {
	if err := checkNames("idp:application", map[string]string{"name": a.Name, "namespace": a.Namespace, "Argo CD namespace": o.ArgoCDNamespace}); err != nil {
		return err
	}
	if errs := validation.IsDNS1123Subdomain(a.Project); a.Project != "" && len(errs) > 0 {
		return fmt.Errorf("idp:application: project %q is not an Argo CD project name: %s", a.Project, strings.Join(errs, "; "))
	}
	for _, v := range []string{a.Name, template} {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return fmt.Errorf("idp:application: %q cannot be a Kubernetes label value: %s", v, strings.Join(errs, "; "))
		}
	}
	for field, v := range map[string]string{"repoUrl": a.RepoURL, "path": a.Path, "revision": a.Revision} {
		if i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }); i >= 0 {
			return fmt.Errorf("idp:application: %s %q contains a space or control character; Argo CD cannot use it", field, v)
		}
	}
	if p := a.Path; p != "" && (path.IsAbs(p) || path.Clean(p) != p && path.Clean(p)+"/" != p || strings.HasPrefix(path.Clean(p), "..")) {
		return fmt.Errorf("idp:application: path %q must be a clean path inside the repository", p)
	}
	return nil
}

func checkNames(step string, names map[string]string) error {
	for what, v := range names {
		if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
			return fmt.Errorf("%s: %s %q is not a Kubernetes name: %s", step, what, v, strings.Join(errs, "; "))
		}
	}
	return nil
}

// encode writes one YAML document; every value goes through the encoder,
// so no answer can change the document's structure.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
