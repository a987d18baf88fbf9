package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

func TestReceiverVerifies(t *testing.T) {
	is := is.New(t)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var out bytes.Buffer
	h := handler(secret, &out)
	send := func(sig string) int {
		req := httptest.NewRequest("POST", "/webhooks", strings.NewReader(`{"orderId":"ord_1"}`))
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	good, err := nahook.Sign(secret, "msg_1", time.Now(), []byte(`{"orderId":"ord_1"}`))
	is.NoErr(err)
	is.Equal(send(good), http.StatusNoContent)
	is.True(strings.Contains(out.String(), `verified msg_1`))
	is.Equal(send("v1,Zm9yZ2Vk"), http.StatusUnauthorized)
	is.True(strings.Contains(out.String(), "REFUSED msg_1"))
}
