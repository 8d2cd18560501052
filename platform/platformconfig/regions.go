package platformconfig

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Regions are the Azure public-cloud regions by programmatic name (what `az
// account list-locations --query "[].name"` prints for physical regions),
// sorted. Sovereign clouds and the EUAP canary regions are not included.
// Not every region offers AKS or every VM size; Azure says so when the
// cluster is created.
var Regions = []string{
	"australiacentral", "australiacentral2", "australiaeast", "australiasoutheast",
	"austriaeast",
	"belgiumcentral",
	"brazilsouth", "brazilsoutheast",
	"canadacentral", "canadaeast",
	"centralindia", "centralus",
	"chilecentral",
	"eastasia", "eastus", "eastus2",
	"francecentral", "francesouth",
	"germanynorth", "germanywestcentral",
	"indonesiacentral",
	"israelcentral",
	"italynorth",
	"japaneast", "japanwest",
	"jioindiacentral", "jioindiawest",
	"koreacentral", "koreasouth",
	"malaysiawest",
	"mexicocentral",
	"newzealandnorth",
	"northcentralus", "northeurope",
	"norwayeast", "norwaywest",
	"polandcentral",
	"qatarcentral",
	"southafricanorth", "southafricawest",
	"southcentralus", "southeastasia", "southindia",
	"spaincentral",
	"swedencentral", "swedensouth",
	"switzerlandnorth", "switzerlandwest",
	"uaecentral", "uaenorth",
	"uksouth", "ukwest",
	"westcentralus", "westeurope", "westindia",
	"westus", "westus2", "westus3",
}

// ValidateLocation checks an Azure region name against Regions. An unknown
// name is an error that suggests the nearest known names; a display name
// ("West Europe") is answered with its programmatic spelling.
func ValidateLocation(s string) error {
	if s == "" {
		return fmt.Errorf("the region is empty; give an Azure region's programmatic name such as westeurope or eastus2")
	}
	if _, ok := slices.BinarySearch(Regions, s); ok {
		return nil
	}
	norm := strings.ToLower(strings.Join(strings.Fields(s), ""))
	if _, ok := slices.BinarySearch(Regions, norm); ok {
		return fmt.Errorf("region %q: write it as %q (the programmatic name, lower case without spaces)", s, norm)
	}
	if near := NearestRegions(s, 3); len(near) > 0 {
		return fmt.Errorf("region %q is not an Azure public-cloud region; did you mean %s?", s, orList(near))
	}
	return fmt.Errorf("region %q is not an Azure public-cloud region; known regions include westeurope, northeurope, eastus, eastus2, westus2, uksouth and swedencentral", s)
}

// NearestRegions returns up to n known regions closest to s: those that
// contain what was typed first, then by edit distance, nearest first. A
// region too far from s to be a plausible typo is left out.
func NearestRegions(s string, n int) []string {
	q := strings.ToLower(strings.Join(strings.Fields(s), ""))
	if q == "" || n <= 0 {
		return nil
	}
	type cand struct {
		name string
		rank int
	}
	var cands []cand
	limit := max(2, len(q)/3)
	for _, r := range Regions {
		switch d := levenshtein(q, r); {
		case strings.HasPrefix(r, q) && len(q) >= 3:
			cands = append(cands, cand{r, -100 + len(r)})
		case strings.Contains(r, q) && len(q) >= 4:
			cands = append(cands, cand{r, -50 + len(r)})
		case d <= limit:
			cands = append(cands, cand{r, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].rank != cands[j].rank {
			return cands[i].rank < cands[j].rank
		}
		return cands[i].name < cands[j].name
	})
	var out []string
	for i := 0; i < len(cands) && i < n; i++ {
		out = append(out, cands[i].name)
	}
	return out
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// orList writes "a", "a or b", "a, b or c".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
