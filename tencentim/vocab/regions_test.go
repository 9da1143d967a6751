package vocab

import "testing"

func TestLookupRegion(t *testing.T) {
	tests := []struct {
		in      string
		name    string
		primary string
		backup  string
	}{
		{"china", "china", "console.tim.qq.com", "adminapi.my-imcloud.com"},
		{"CN", "china", "console.tim.qq.com", "adminapi.my-imcloud.com"},
		{"Singapore", "singapore", "adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"},
		{"sgp", "singapore", "adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"},
		{"seoul", "seoul", "adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"},
		{"korea", "seoul", "adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"},
		{"FRANKFURT", "frankfurt", "adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"},
		{"germany", "frankfurt", "adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"},
		{"mumbai", "mumbai", "adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com"},
		{"India", "mumbai", "adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com"},
		{"siliconvalley", "siliconvalley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
		{"Silicon Valley", "siliconvalley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
		{"silicon-valley", "siliconvalley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
		{"usa", "siliconvalley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
		{"jakarta", "jakarta", "adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"},
		{"indonesia", "jakarta", "adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"},
		{"tokyo", "tokyo", "adminapijpn.im.qcloud.com", ""},
		{" Japan ", "tokyo", "adminapijpn.im.qcloud.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := LookupRegion(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tt.name || r.Primary != tt.primary || r.Backup != tt.backup {
				t.Errorf("LookupRegion(%q) = %+v", tt.in, r)
			}
			urls := r.BaseURLs()
			if urls[0] != "https://"+tt.primary {
				t.Errorf("BaseURLs = %v", urls)
			}
			if (tt.backup == "") != (len(urls) == 1) {
				t.Errorf("BaseURLs = %v, backup %q", urls, tt.backup)
			}
		})
	}
	for _, bad := range []string{"", "mars", "singapur", "euro"} {
		t.Run("unknown "+bad, func(t *testing.T) {
			if _, err := LookupRegion(bad); err == nil {
				t.Errorf("LookupRegion(%q) succeeded", bad)
			}
		})
	}
}
