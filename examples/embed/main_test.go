package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store/sqlite"
)

func TestOrdersHandlerResolves(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	is.NoErr(err)
	defer st.Close()
	nh, err := nahook.New(st, nahook.Config{})
	is.NoErr(err)
	defer nh.Close()
	ws, _, err := setup(ctx, nh)
	is.NoErr(err)

	order := func(body string) (int, []string) {
		rec := httptest.NewRecorder()
		orders(nh, ws).ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(body)))
		var got struct{ Notify []string }
		json.Unmarshal(rec.Body.Bytes(), &got)
		return rec.Code, got.Notify
	}
	status, notify := order(`{"customer": "cust_123", "total": 4200}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(notify, []string{"https://acme.example/webhooks"}) // Acme hears of Acme's order, and only Acme
	status, notify = order(`{"customer": "cust_456", "total": 99}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(notify, []string{"https://globex.example/hooks"}) // Globex of Globex's
	status, _ = order(`{"customer": "nobody"}`)
	is.Equal(status, http.StatusNotFound) // an unknown customer hears nothing
}
