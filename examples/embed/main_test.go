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
	key, err := setup(ctx, nh)
	is.NoErr(err)

	rec := httptest.NewRecorder()
	orders(nh, key).ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(`{"customer": "cust_123", "total": 4200}`)))
	is.Equal(rec.Code, http.StatusCreated)
	var got struct{ Notify []string }
	is.NoErr(json.Unmarshal(rec.Body.Bytes(), &got))
	is.Equal(got.Notify, []string{"https://acme.example/webhooks"}) // the customer's endpoint hears of the order
}
