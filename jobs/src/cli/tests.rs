//! Parsing the command line as users write it.

use super::*;
use clap::CommandFactory;

#[test]
fn definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn check_takes_several_data_paths() {
    let cli = Cli::try_parse_from([
        "pdq",
        "check",
        "--data",
        "a.csv",
        "b.csv",
        "--rules",
        "r.yaml",
        "--format",
        "json",
        "--as-of",
        "2026-11-22",
    ])
    .unwrap();
    let Command::Check(args) = cli.command else {
        panic!("not check")
    };
    assert_eq!(
        args.data,
        vec![PathBuf::from("a.csv"), PathBuf::from("b.csv")]
    );
    assert_eq!(args.format.as_deref(), Some("json"));
    assert_eq!(args.run.as_of.as_deref(), Some("2026-11-22"));
    assert_eq!(args.run.time_zone, "Asia/Shanghai");
}

#[test]
fn unknown_format_is_rejected() {
    assert!(
        Cli::try_parse_from([
            "pdq", "check", "--data", "a", "--rules", "r", "--format", "xml"
        ])
        .is_err()
    );
}

#[test]
fn audit_takes_its_actions_and_a_key_path() {
    let cli = Cli::try_parse_from(["pdq", "audit", "key-init", "--out", "/k"]).unwrap();
    let Command::Audit(args) = cli.command else {
        panic!("not audit")
    };
    assert_eq!(args.action, "key-init");
    assert_eq!(args.out, Some(PathBuf::from("/k")));
    for a in ["verify", "show", "prune", "anchor", "seal"] {
        assert!(Cli::try_parse_from(["pdq", "audit", a]).is_ok(), "{a}");
    }
    assert!(Cli::try_parse_from(["pdq", "audit", "rewrite"]).is_err());
}

#[test]
fn demo_defaults_to_pdq_demo() {
    let cli = Cli::try_parse_from(["pdq", "demo"]).unwrap();
    let Command::Demo(args) = cli.command else {
        panic!("not demo")
    };
    assert_eq!(args.out, PathBuf::from("pdq-demo"));
}

#[test]
fn onesource_takes_workspace_date_and_declarations() {
    let cli = Cli::try_parse_from([
        "pdq",
        "onesource",
        "-w",
        "ws",
        "--as-of",
        "2026-11-22",
        "--declarations",
        "catalog.csv",
    ])
    .unwrap();
    let Command::Onesource(args) = cli.command else {
        panic!("not onesource")
    };
    assert_eq!(args.workspace.dir, PathBuf::from("ws"));
    assert_eq!(args.as_of.as_deref(), Some("2026-11-22"));
    assert_eq!(args.declarations, Some(PathBuf::from("catalog.csv")));
}

#[test]
fn usage_objection_notify_and_catalog_withdrawal_parse() {
    let cli = Cli::try_parse_from([
        "pdq",
        "usage",
        "list",
        "--dataset",
        "minzheng.people",
        "--since",
        "2026-01-01",
    ])
    .unwrap();
    let Command::Usage(UsageArgs {
        action: UsageAction::List { dataset, since, .. },
    }) = cli.command
    else {
        panic!("not usage list")
    };
    assert_eq!(dataset.as_deref(), Some("minzheng.people"));
    assert_eq!(since.as_deref(), Some("2026-01-01"));
    let cli = Cli::try_parse_from([
        "pdq",
        "objection",
        "notify",
        "2026-0001",
        "--consumer",
        "gongan",
        "--consumer",
        "renshe",
    ])
    .unwrap();
    let Command::Objection(ObjectionArgs {
        action: ObjectionAction::Notify { consumers, .. },
    }) = cli.command
    else {
        panic!("not objection notify")
    };
    assert_eq!(consumers, ["gongan", "renshe"]);
    // Notifying nobody is not a command.
    assert!(Cli::try_parse_from(["pdq", "objection", "notify", "2026-0001"]).is_err());
    let cli = Cli::try_parse_from([
        "pdq",
        "catalog",
        "withdrawal",
        "record",
        "tpl:A1",
        "--replacement",
        "A2",
        "--notified",
        "gongan",
    ])
    .unwrap();
    let Command::Catalog(CatalogArgs {
        action:
            CatalogAction::Withdrawal {
                action:
                    WithdrawalAction::Record {
                        entry,
                        replacement,
                        notified,
                        ..
                    },
            },
    }) = cli.command
    else {
        panic!("not catalog withdrawal record")
    };
    assert_eq!(entry, "tpl:A1");
    assert_eq!(replacement.as_deref(), Some("A2"));
    assert_eq!(notified, ["gongan"]);
}

/// Issue #22: `--engine` and `--scheduler` on `pdq check` and `pdq sweep`.
#[test]
fn check_and_sweep_take_an_engine() {
    let cli = Cli::try_parse_from([
        "pdq",
        "check",
        "--data",
        "a.csv",
        "--rules",
        "r.yaml",
        "--engine",
        "ballista",
        "--scheduler",
        "df://h:50050",
    ])
    .unwrap();
    let Command::Check(args) = cli.command else {
        panic!("not check")
    };
    assert_eq!(args.engine.engine.as_deref(), Some("ballista"));
    assert_eq!(args.engine.scheduler.as_deref(), Some("df://h:50050"));
    let cli = Cli::try_parse_from(["pdq", "sweep", "--engine", "embedded"]).unwrap();
    let Command::Sweep(args) = cli.command else {
        panic!("not sweep")
    };
    assert_eq!(args.engine.engine.as_deref(), Some("embedded"));
    assert_eq!(args.engine.stall_timeout_secs, None);
    assert!(Cli::try_parse_from(["pdq", "sweep", "--engine", "spark"]).is_err());
}

/// Issue #22, 5: `--stall-timeout-secs` on `pdq check` and `pdq sweep`,
/// one second or more.
#[test]
fn check_and_sweep_take_a_stall_timeout() {
    let cli = Cli::try_parse_from([
        "pdq",
        "sweep",
        "--engine",
        "ballista",
        "--stall-timeout-secs",
        "90",
    ])
    .unwrap();
    let Command::Sweep(args) = cli.command else {
        panic!("not sweep")
    };
    assert_eq!(args.engine.stall_timeout_secs, Some(90));
    let cli = Cli::try_parse_from([
        "pdq",
        "check",
        "--data",
        "a.csv",
        "--rules",
        "r.yaml",
        "--stall-timeout-secs",
        "30",
    ])
    .unwrap();
    let Command::Check(args) = cli.command else {
        panic!("not check")
    };
    assert_eq!(args.engine.stall_timeout_secs, Some(30));
    assert!(Cli::try_parse_from(["pdq", "sweep", "--stall-timeout-secs", "0"]).is_err());
}

/// Issue #22, 5: the executor's memory pool takes a size as
/// `--memory-limit` does; heartbeats and the scheduler's dead-executor
/// timeout default to seconds, not Ballista's minutes.
#[cfg(feature = "ballista")]
#[test]
fn executor_takes_a_memory_pool_and_the_scheduler_a_dead_executor_timeout() {
    let executor = |extra: &[&str]| {
        let mut argv = vec!["pdq", "executor", "--scheduler", "df://h:50050"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Executor(args) => args,
            _ => panic!("not executor"),
        })
    };
    let args = executor(&["--memory-pool-size", "4GiB"]).unwrap();
    assert_eq!(args.memory_pool_size, Some(4 << 30));
    assert_eq!(args.heartbeat_secs, 5);
    let args = executor(&["--memory-pool-size", "512MiB", "--heartbeat-secs", "2"]).unwrap();
    assert_eq!(args.memory_pool_size, Some(512 << 20));
    assert_eq!(args.heartbeat_secs, 2);
    if std::env::var_os("PDQ_EXECUTOR_MEMORY_POOL").is_none() {
        assert_eq!(executor(&[]).unwrap().memory_pool_size, None);
    }
    for bad in ["lots", "4 parsecs", "0", ""] {
        assert!(
            executor(&["--memory-pool-size", bad]).is_err(),
            "--memory-pool-size {bad:?} accepted"
        );
    }
    assert!(executor(&["--heartbeat-secs", "0"]).is_err());

    let scheduler = |extra: &[&str]| {
        let mut argv = vec!["pdq", "scheduler"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Scheduler(args) => args,
            _ => panic!("not scheduler"),
        })
    };
    let args = scheduler(&[]).unwrap();
    assert_eq!(
        (args.executor_timeout_secs, args.dead_executor_check_secs),
        (30, 5)
    );
    let args = scheduler(&[
        "--executor-timeout-secs",
        "8",
        "--dead-executor-check-secs",
        "1",
    ])
    .unwrap();
    assert_eq!(
        (args.executor_timeout_secs, args.dead_executor_check_secs),
        (8, 1)
    );
    assert!(scheduler(&["--executor-timeout-secs", "1"]).is_err());
    assert!(scheduler(&["--dead-executor-check-secs", "0"]).is_err());
}

#[test]
fn usage_prune_takes_an_as_of_day_and_a_dry_run() {
    let cli = Cli::try_parse_from([
        "pdq",
        "usage",
        "prune",
        "-w",
        "/ws",
        "--as-of",
        "2026-11-20",
        "--dry-run",
        "--format",
        "json",
    ])
    .unwrap();
    let Command::Usage(args) = cli.command else {
        panic!("not usage")
    };
    let UsageAction::Prune {
        workspace,
        as_of,
        dry_run,
        format,
    } = args.action
    else {
        panic!("not prune")
    };
    assert_eq!(workspace.dir, PathBuf::from("/ws"));
    assert_eq!(as_of.as_deref(), Some("2026-11-20"));
    assert!(dry_run);
    assert_eq!(format.as_deref(), Some("json"));
    // Without --dry-run it prunes.
    let cli = Cli::try_parse_from(["pdq", "usage", "prune"]).unwrap();
    let Command::Usage(UsageArgs {
        action: UsageAction::Prune { dry_run, .. },
    }) = cli.command
    else {
        panic!("not prune")
    };
    assert!(!dry_run);
}
