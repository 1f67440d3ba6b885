package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The same change batches through the Route 53-compatible API: XML bodies
// signed with AWS SigV4 (the SDK's signer), as an AWS SDK sends them, so
// that the two front ends are compared on the same server, zones and
// batches in the same run.

type r53Value struct {
	Value string `xml:"Value"`
}

type r53RRSet struct {
	Name            string     `xml:"Name"`
	Type            string     `xml:"Type"`
	TTL             int        `xml:"TTL"`
	ResourceRecords []r53Value `xml:"ResourceRecords>ResourceRecord"`
}

type r53Change struct {
	Action            string   `xml:"Action"`
	ResourceRecordSet r53RRSet `xml:"ResourceRecordSet"`
}

type r53Request struct {
	XMLName xml.Name    `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeResourceRecordSetsRequest"`
	Comment string      `xml:"ChangeBatch>Comment"`
	Changes []r53Change `xml:"ChangeBatch>Changes>Change"`
}

// r53Body is the XML of the same batch the JSON runs send.
func r53Body(b batchIn) ([]byte, error) {
	req := r53Request{Comment: b.Comment, Changes: make([]r53Change, len(b.Changes))}
	for i, c := range b.Changes {
		vals := make([]r53Value, len(c.RRSet.Records))
		for j, v := range c.RRSet.Records {
			vals[j] = r53Value{Value: v}
		}
		req.Changes[i] = r53Change{Action: c.Action, ResourceRecordSet: r53RRSet{Name: c.RRSet.Name, Type: c.RRSet.Type, TTL: c.RRSet.TTL, ResourceRecords: vals}}
	}
	return xml.Marshal(req)
}

// r53Client signs requests with a tenant's key pair.
type r53Client struct {
	base          string
	keyID, secret string
	hc            *http.Client
	signer        *v4.Signer
}

// changeBatch posts one ChangeResourceRecordSets.
func (c *r53Client) changeBatch(ctx context.Context, zoneID string, b batchIn) error {
	body, err := r53Body(b)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/2013-04-01/hostedzone/"+zoneID+"/rrset", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/xml")
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, aws.Credentials{AccessKeyID: c.keyID, SecretAccessKey: c.secret},
		req, hex.EncodeToString(sum[:]), "route53", "us-east-1", time.Now()); err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ChangeResourceRecordSets: %d %s", resp.StatusCode, bytes.TrimSpace(out))
	}
	return nil
}
