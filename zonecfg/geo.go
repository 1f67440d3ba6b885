package zonecfg

import "strings"

// Continent codes accepted in a geolocation's continent_code, Route 53's
// list (Antarctica included).
var continents = map[string]string{
	"AF": "Africa",
	"AN": "Antarctica",
	"AS": "Asia",
	"EU": "Europe",
	"NA": "North America",
	"OC": "Oceania",
	"SA": "South America",
}

// countryContinents lists the ISO 3166-1 alpha-2 codes accepted in a
// geolocation's country_code with the continent each belongs to. The
// mapping follows Route 53 (and MaxMind's databases): RU, TR, UA are in
// Europe; AE, IL, CY's neighbours in Asia. Nameservers use it to widen a
// country to its continent when the GeoIP database gives no continent.
const countryContinents = "" +
	"AD:EU AE:AS AF:AS AG:NA AI:NA AL:EU AM:AS AO:AF AQ:AN AR:SA AS:OC AT:EU AU:OC AW:NA AX:EU AZ:AS " +
	"BA:EU BB:NA BD:AS BE:EU BF:AF BG:EU BH:AS BI:AF BJ:AF BL:NA BM:NA BN:AS BO:SA BQ:NA BR:SA BS:NA BT:AS BV:AN BW:AF BY:EU BZ:NA " +
	"CA:NA CC:AS CD:AF CF:AF CG:AF CH:EU CI:AF CK:OC CL:SA CM:AF CN:AS CO:SA CR:NA CU:NA CV:AF CW:NA CX:AS CY:EU CZ:EU " +
	"DE:EU DJ:AF DK:EU DM:NA DO:NA DZ:AF " +
	"EC:SA EE:EU EG:AF EH:AF ER:AF ES:EU ET:AF " +
	"FI:EU FJ:OC FK:SA FM:OC FO:EU FR:EU " +
	"GA:AF GB:EU GD:NA GE:AS GF:SA GG:EU GH:AF GI:EU GL:NA GM:AF GN:AF GP:NA GQ:AF GR:EU GS:AN GT:NA GU:OC GW:AF GY:SA " +
	"HK:AS HM:AN HN:NA HR:EU HT:NA HU:EU " +
	"ID:AS IE:EU IL:AS IM:EU IN:AS IO:AS IQ:AS IR:AS IS:EU IT:EU " +
	"JE:EU JM:NA JO:AS JP:AS " +
	"KE:AF KG:AS KH:AS KI:OC KM:AF KN:NA KP:AS KR:AS KW:AS KY:NA KZ:AS " +
	"LA:AS LB:AS LC:NA LI:EU LK:AS LR:AF LS:AF LT:EU LU:EU LV:EU LY:AF " +
	"MA:AF MC:EU MD:EU ME:EU MF:NA MG:AF MH:OC MK:EU ML:AF MM:AS MN:AS MO:AS MP:OC MQ:NA MR:AF MS:NA MT:EU MU:AF MV:AS MW:AF MX:NA MY:AS MZ:AF " +
	"NA:AF NC:OC NE:AF NF:OC NG:AF NI:NA NL:EU NO:EU NP:AS NR:OC NU:OC NZ:OC " +
	"OM:AS " +
	"PA:NA PE:SA PF:OC PG:OC PH:AS PK:AS PL:EU PM:NA PN:OC PR:NA PS:AS PT:EU PW:OC PY:SA " +
	"QA:AS " +
	"RE:AF RO:EU RS:EU RU:EU RW:AF " +
	"SA:AS SB:OC SC:AF SD:AF SE:EU SG:AS SH:AF SI:EU SJ:EU SK:EU SL:AF SM:EU SN:AF SO:AF SR:SA SS:AF ST:AF SV:NA SX:NA SY:AS SZ:AF " +
	"TC:NA TD:AF TF:AN TG:AF TH:AS TJ:AS TK:OC TL:AS TM:AS TN:AF TO:OC TR:EU TT:NA TV:OC TW:AS TZ:AF " +
	"UA:EU UG:AF UM:OC US:NA UY:SA UZ:AS " +
	"VA:EU VC:NA VE:SA VG:NA VI:NA VN:AS VU:OC " +
	"WF:OC WS:OC " +
	"XK:EU " +
	"YE:AS YT:AF " +
	"ZA:AF ZM:AF ZW:AF"

// usSubdivisions are the codes accepted in subdivision_code (with
// country_code US): the 50 states and DC, as in Route 53's
// ListGeoLocations. Subdivisions of other countries are refused, as Route
// 53's model documents US states only.
const usSubdivisions = "AK AL AR AZ CA CO CT DC DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM NV NY OH OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY"

// GeoDefault is the country_code of the default geolocation record, the
// one answered when no other location matches.
const GeoDefault = "*"

// IsContinent reports whether code is an accepted continent code.
func IsContinent(code string) bool { _, ok := continents[code]; return ok }

// ContinentName returns the English name of a continent code, or "".
func ContinentName(code string) string { return continents[code] }

// Continents returns the accepted continent codes in ASCII order.
func Continents() []string { return []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"} }

// CountryContinent returns the continent code of an accepted ISO 3166-1
// alpha-2 country code (uppercase), and false for an unknown code.
func CountryContinent(country string) (string, bool) {
	if len(country) != 2 {
		return "", false
	}
	i := strings.Index(countryContinents, country+":")
	// Entries are "CC:CO" separated by spaces, so a match must start an
	// entry (offset multiple of 6).
	for i >= 0 && i%6 != 0 {
		j := strings.Index(countryContinents[i+1:], country+":")
		if j < 0 {
			return "", false
		}
		i += 1 + j
	}
	if i < 0 {
		return "", false
	}
	return countryContinents[i+3 : i+5], true
}

// IsCountry reports whether code is an accepted country code.
func IsCountry(code string) bool { _, ok := CountryContinent(code); return ok }

// Countries returns the accepted country codes in ASCII order.
func Countries() []string {
	fs := strings.Fields(countryContinents)
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f[:2]
	}
	return out
}

// IsSubdivision reports whether sub is an accepted subdivision code of
// country; only US states (and DC) are.
func IsSubdivision(country, sub string) bool {
	if country != "US" || len(sub) != 2 {
		return false
	}
	for _, s := range strings.Fields(usSubdivisions) {
		if s == sub {
			return true
		}
	}
	return false
}

// Subdivisions returns the accepted subdivision codes of country in ASCII
// order (nil for every country but US).
func Subdivisions(country string) []string {
	if country != "US" {
		return nil
	}
	return strings.Fields(usSubdivisions)
}
