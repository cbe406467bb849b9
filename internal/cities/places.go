package cities

import (
	"strings"
)

// quebecPlaces are places whose offices write in French. A city named in the
// table with ", Quebec" after it is recognised too.
var quebecPlaces = []string{
	"montreal", "montréal", "quebec city", "québec", "laval", "gatineau", "longueuil",
	"sherbrooke", "saguenay", "lévis", "levis", "trois-rivières", "trois-rivieres", "terrebonne",
}

// defaultLanguage is the language of an office when the contacts file does
// not say: Italian in Italy, French in Quebec, English elsewhere.
func defaultLanguage(country string, places []string) string {
	switch strings.ToLower(country) {
	case "italy", "san marino":
		return "it"
	case "france", "monaco":
		return "fr"
	case "canada":
		for _, p := range places {
			p = strings.ToLower(p)
			if strings.Contains(p, "quebec") || strings.Contains(p, "québec") {
				return "fr"
			}
			for _, q := range quebecPlaces {
				if p == q || strings.HasPrefix(p, q+",") {
					return "fr"
				}
			}
		}
	}
	return "en"
}

// countryZones are countries with one time zone.
var countryZones = map[string]string{
	"united kingdom": "Europe/London",
	"ireland":        "Europe/Dublin",
	"italy":          "Europe/Rome",
	"france":         "Europe/Paris",
	"germany":        "Europe/Berlin",
	"spain":          "Europe/Madrid",
	"netherlands":    "Europe/Amsterdam",
	"belgium":        "Europe/Brussels",
	"switzerland":    "Europe/Zurich",
	"austria":        "Europe/Vienna",
	"poland":         "Europe/Warsaw",
	"sweden":         "Europe/Stockholm",
	"norway":         "Europe/Oslo",
	"denmark":        "Europe/Copenhagen",
	"finland":        "Europe/Helsinki",
	"greece":         "Europe/Athens",
	"japan":          "Asia/Tokyo",
	"philippines":    "Asia/Manila",
	"new zealand":    "Pacific/Auckland",
}

// regionZones map a province, state or city named in a place to its zone,
// for countries that span several. Longer, more specific names come first
// ("Western Australia" before "Australia"-wide guesses).
var regionZones = map[string][]struct{ name, zone string }{
	"canada": {
		{"british columbia", "America/Vancouver"}, {"vancouver", "America/Vancouver"},
		{"surrey", "America/Vancouver"}, {"coquitlam", "America/Vancouver"}, {"burnaby", "America/Vancouver"},
		{"alberta", "America/Edmonton"}, {"calgary", "America/Edmonton"}, {"edmonton", "America/Edmonton"},
		{"saskatchewan", "America/Regina"}, {"manitoba", "America/Winnipeg"}, {"winnipeg", "America/Winnipeg"},
		{"ontario", "America/Toronto"}, {"ottawa", "America/Toronto"}, {"toronto", "America/Toronto"},
		{"quebec", "America/Toronto"}, {"québec", "America/Toronto"}, {"montreal", "America/Toronto"}, {"montréal", "America/Toronto"},
		{"new brunswick", "America/Moncton"}, {"moncton", "America/Moncton"},
		{"nova scotia", "America/Halifax"}, {"halifax", "America/Halifax"},
		{"prince edward island", "America/Halifax"}, {"newfoundland", "America/St_Johns"},
	},
	"australia": {
		{"western australia", "Australia/Perth"}, {"perth", "Australia/Perth"},
		{"south australia", "Australia/Adelaide"}, {"adelaide", "Australia/Adelaide"},
		{"new south wales", "Australia/Sydney"}, {"뉴사우스웨일", "Australia/Sydney"}, {"sydney", "Australia/Sydney"},
		{"queensland", "Australia/Brisbane"}, {"brisbane", "Australia/Brisbane"},
		{"victoria", "Australia/Melbourne"}, {"melbourne", "Australia/Melbourne"},
		{"tasmania", "Australia/Hobart"}, {"hobart", "Australia/Hobart"},
		{"northern territory", "Australia/Darwin"}, {"darwin", "Australia/Darwin"},
		{"australian capital territory", "Australia/Sydney"}, {"canberra", "Australia/Sydney"},
	},
}

// defaultTimeZone guesses the IANA time zone of an office from its country
// and the places the table names it by; "" when it cannot tell.
func defaultTimeZone(country string, places []string) string {
	country = strings.ToLower(country)
	if z, ok := countryZones[country]; ok {
		return z
	}
	for _, r := range regionZones[country] {
		for _, p := range places {
			if strings.Contains(strings.ToLower(p), r.name) {
				return r.zone
			}
		}
	}
	return ""
}
