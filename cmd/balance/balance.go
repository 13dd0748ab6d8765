// Package balance implements `moonchat balance`: the account's available, voucher and cash
// balance.
package balance

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// Options are the inputs of a balance run.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	JSON    bool
	Offline bool
}

// NewCmdBalance builds the command. runF replaces the run function in tests of flag parsing.
func NewCmdBalance(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "balance [flags]",
		Short: "Show your Moonshot account balance",
		Long: cli.Doc(`
			Show the account's balance from GET /v1/users/me/balance: the available balance,
			and the voucher and cash balances it is made of. Amounts are in USD on the
			global platform (api.moonshot.ai) and in CNY on the China platform
			(api.moonshot.cn); the currency follows --api-base when it is one of Moonshot's
			hosts, else --region.

			The cash balance can be negative. Requests are refused once the available
			balance is zero or less (exit status 4 on chat).

			On a terminal the amounts are rounded to cents; piped, each line is a name, the
			exact amount and the currency ("available 49.58894 USD"). --json prints one
			object: available, voucher, cash (numbers) and currency.
		`),
		Example: cli.Doc(`
			$ moonchat balance
			$ moonchat balance --region cn
			$ moonchat balance --json | jq .available
			$ moonchat balance | awk '$1 == "available" { print $2 }'
		`),
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cli.Settings(cmd, f)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(opts)
			}
			return balanceRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON object")
	fl.BoolVar(&opts.Offline, "offline", false, "ask the built-in emulator: no key, no network")
	cli.AddAPIFlags(cmd)
	return cmd
}

func balanceRun(ctx context.Context, opts *Options) error {
	client, err := opts.Factory.Client(opts.Config, cli.ClientOptions{Offline: opts.Offline})
	if err != nil {
		return err
	}
	ctx, cancel := cli.WithTimeout(ctx, opts.Config)
	defer cancel()
	b, err := client.Balance(ctx)
	if err != nil {
		return cli.TimeoutCause(ctx, err)
	}
	if err := printBalance(opts, b.AvailableBalance, b.VoucherBalance, b.CashBalance); err != nil {
		return err
	}
	if b.AvailableBalance <= 0 {
		fmt.Fprintln(opts.IO.ErrOut, "moonchat: the available balance is used up: requests are refused until you top up on the Moonshot platform")
	}
	return nil
}

func printBalance(opts *Options, available, voucher, cash float64) error {
	currency := cli.Currency(opts.Config)
	if opts.JSON {
		return cli.WriteJSONLine(opts.IO.Out, struct {
			Available float64 `json:"available"`
			Voucher   float64 `json:"voucher"`
			Cash      float64 `json:"cash"`
			Currency  string  `json:"currency"`
		}{available, voucher, cash, currency})
	}
	lines := []struct {
		name   string
		amount float64
	}{{"available", available}, {"voucher", voucher}, {"cash", cash}}
	rows := make([][]string, 0, len(lines))
	for _, l := range lines {
		amount := strconv.FormatFloat(l.amount, 'f', -1, 64)
		if opts.IO.IsStdoutTTY() {
			amount = fmt.Sprintf("%.2f", l.amount)
		}
		rows = append(rows, []string{l.name, amount, currency})
	}
	if !opts.IO.IsStdoutTTY() {
		// One space, never padding: scripts split on it.
		for _, r := range rows {
			if _, err := fmt.Fprintln(opts.IO.Out, strings.Join(r, " ")); err != nil {
				return err
			}
		}
		return nil
	}
	return cli.WriteTable(opts.IO.Out, rows, 1)
}
