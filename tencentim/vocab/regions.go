package vocab

import (
	"fmt"
	"strings"
)

// Region is a data-centre of Tencent Cloud Chat with its REST API domains (spec §1.2).
type Region struct {
	Name    string // canonical name, as tencentim.Config.Region spells it
	Primary string // primary domain
	Backup  string // backup domain; empty when the vendor documents none
}

// Regions lists every documented region (spec §1.2; Tokyo from seed 002 only, which
// documents no backup domain for it, so none is invented).
var Regions = []Region{
	{"china", "console.tim.qq.com", "adminapi.my-imcloud.com"},
	{"singapore", "adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"},
	{"seoul", "adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"},
	{"frankfurt", "adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"},
	{"mumbai", "adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com"},
	{"siliconvalley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
	{"jakarta", "adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"},
	{"tokyo", "adminapijpn.im.qcloud.com", ""},
}

// regionAliases maps other common spellings to canonical names. Some vendor pages
// call Mumbai "India" (spec §1.2); the domain codes (sgp, kr, ger, ind, usa, idn, jpn)
// are accepted too.
var regionAliases = map[string]string{
	"cn": "china", "mainland": "china", "mainlandchina": "china", "prc": "china",
	"sgp": "singapore", "sg": "singapore",
	"kr": "seoul", "korea": "seoul", "southkorea": "seoul",
	"ger": "frankfurt", "de": "frankfurt", "germany": "frankfurt",
	"ind": "mumbai", "in": "mumbai", "india": "mumbai",
	"usa": "siliconvalley", "us": "siliconvalley", "sv": "siliconvalley", "unitedstates": "siliconvalley",
	"idn": "jakarta", "id": "jakarta", "indonesia": "jakarta",
	"jpn": "tokyo", "jp": "tokyo", "japan": "tokyo",
}

// LookupRegion finds a region by name, case-insensitively, ignoring spaces, hyphens
// and underscores ("Silicon Valley", "silicon-valley") and accepting the aliases above.
func LookupRegion(name string) (Region, error) {
	key := strings.ToLower(strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.TrimSpace(name)))
	if canon, ok := regionAliases[key]; ok {
		key = canon
	}
	for _, r := range Regions {
		if r.Name == key {
			return r, nil
		}
	}
	names := make([]string, len(Regions))
	for i, r := range Regions {
		names[i] = r.Name
	}
	return Region{}, fmt.Errorf("unknown region %q (known: %s)", name, strings.Join(names, ", "))
}

// BaseURLs returns the HTTPS base URLs of the region, primary first.
func (r Region) BaseURLs() []string {
	urls := []string{"https://" + r.Primary}
	if r.Backup != "" {
		urls = append(urls, "https://"+r.Backup)
	}
	return urls
}
