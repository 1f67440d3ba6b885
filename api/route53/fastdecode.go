package route53

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// decodeCRRSFast reads a ChangeResourceRecordSets body with the XML
// tokenizer alone, no reflection: change batches are the hot path, and
// encoding/xml's Unmarshal costs most of a large batch. It handles the
// shape every SDK sends (the model's elements, any order, text content);
// for anything else (an unknown element, attributes, mixed content,
// malformed XML) ok is false and decodeXML takes over, so errors are the
// reflective decoder's. FuzzDecodeCRRSFast checks the two agree.
func decodeCRRSFast(body []byte) (req changeResourceRecordSetsRequest, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var path []string
	var text strings.Builder
	var ch *struct {
		Action            string    `xml:"Action"`
		ResourceRecordSet *rrsetXML `xml:"ResourceRecordSet"`
	}
	rs := func() *rrsetXML {
		if ch.ResourceRecordSet == nil {
			ch.ResourceRecordSet = &rrsetXML{}
		}
		return ch.ResourceRecordSet
	}
	sawRoot := false
	for {
		tok, err := d.RawToken()
		if err != nil {
			// io.EOF after a complete document is the normal end.
			return req, sawRoot && len(path) == 0 && errors.Is(err, io.EOF)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				if !(a.Name.Space == "" && a.Name.Local == "xmlns" && a.Value == Namespace) {
					return req, false
				}
			}
			if t.Name.Space != "" {
				return req, false
			}
			if strings.TrimSpace(text.String()) != "" {
				return req, false // mixed content
			}
			text.Reset()
			path = append(path, t.Name.Local)
			p := strings.Join(path, "/")
			switch p {
			case "ChangeResourceRecordSetsRequest":
				if sawRoot {
					return req, false
				}
				sawRoot = true
			case "ChangeResourceRecordSetsRequest/ChangeBatch":
				if req.ChangeBatch != nil {
					return req, false
				}
				req.ChangeBatch = &struct {
					Comment string `xml:"Comment"`
					Changes []struct {
						Action            string    `xml:"Action"`
						ResourceRecordSet *rrsetXML `xml:"ResourceRecordSet"`
					} `xml:"Changes>Change"`
				}{}
			case "ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change":
				req.ChangeBatch.Changes = append(req.ChangeBatch.Changes, struct {
					Action            string    `xml:"Action"`
					ResourceRecordSet *rrsetXML `xml:"ResourceRecordSet"`
				}{})
				ch = &req.ChangeBatch.Changes[len(req.ChangeBatch.Changes)-1]
			case "ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet":
				if ch.ResourceRecordSet != nil {
					return req, false
				}
				rs()
			case "ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet/ResourceRecords":
				if ch.ResourceRecordSet.ResourceRecords != nil {
					return req, false
				}
				ch.ResourceRecordSet.ResourceRecords = &valuesXML{}
			case "ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet/ResourceRecords/ResourceRecord":
				v := &ch.ResourceRecordSet.ResourceRecords.Values
				*v = append(*v, valueXML{})
			case "ChangeResourceRecordSetsRequest/ChangeBatch/Comment",
				"ChangeResourceRecordSetsRequest/ChangeBatch/Changes",
				"ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/Action",
				"ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet/Name",
				"ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet/Type",
				"ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet/TTL",
				"ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet/ResourceRecords/ResourceRecord/Value":
			default:
				// Routing fields, aliases, anything rarer: the
				// reflective decoder.
				return req, false
			}
		case xml.EndElement:
			if len(path) == 0 || t.Name.Space != "" || path[len(path)-1] != t.Name.Local {
				return req, false
			}
			p := strings.Join(path, "/")
			v := text.String()
			text.Reset()
			const r = "ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/ResourceRecordSet/"
			switch p {
			case "ChangeResourceRecordSetsRequest/ChangeBatch/Comment":
				req.ChangeBatch.Comment = v
			case "ChangeResourceRecordSetsRequest/ChangeBatch/Changes/Change/Action":
				ch.Action = v
			case r + "Name":
				rs().Name = v
			case r + "Type":
				rs().Type = v
			case r + "TTL":
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err != nil {
					return req, false
				}
				rs().TTL = &n
			case r + "ResourceRecords/ResourceRecord/Value":
				vals := ch.ResourceRecordSet.ResourceRecords.Values
				vals[len(vals)-1].Value = v
			default:
				if strings.TrimSpace(v) != "" {
					return req, false // text in a container element
				}
			}
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return req, false
				}
				continue
			}
			text.Write(t)
		case xml.ProcInst, xml.Comment:
			if len(path) != 0 {
				return req, false
			}
		default:
			return req, false // directives
		}
	}
}
