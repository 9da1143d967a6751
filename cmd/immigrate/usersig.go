package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

func usersigCommand() *cli.Command {
	return &cli.Command{
		Name:  "usersig",
		Usage: "print a UserSig for an identifier (for curl debugging)",
		Description: "Signs a UserSig as the vendor's tls-sig-api-v2 libraries do (HMAC-SHA256, zlib, URL-safe\n" +
			"base64). The secret key comes from --secret-key or $TIM_SECRET_KEY.",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "sdkappid", Usage: "the app's SDKAppID (required)"},
			&cli.StringFlag{Name: "secret-key", Usage: "the app's secret key", EnvVars: []string{"TIM_SECRET_KEY"}},
			&cli.StringFlag{Name: "identifier", Usage: "the UserID to sign for (REST calls need an app admin)", Value: "administrator"},
			&cli.DurationFlag{Name: "expire", Usage: "validity", Value: tencentim.DefaultUserSigExpiry},
		},
		Action: func(c *cli.Context) error {
			key := c.String("secret-key")
			if key == "" {
				return usagef("usersig: no secret key: pass --secret-key or set TIM_SECRET_KEY")
			}
			if c.Int64("sdkappid") <= 0 {
				return usagef("usersig: --sdkappid is required and must be positive")
			}
			if c.Duration("expire") < time.Second {
				return usagef("usersig: --expire must be at least 1s")
			}
			sig, err := tencentim.GenUserSig(c.Int64("sdkappid"), secret.New(key), c.String("identifier"), time.Now(), c.Duration("expire"))
			if err != nil {
				return fmt.Errorf("usersig: %w", err)
			}
			fmt.Fprintln(c.App.Writer, sig)
			return nil
		},
	}
}
