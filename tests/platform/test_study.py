import pytest

from trainables.resources import Resources

from platform.study import Objective, StudyError, load_study
from platform.study_files import known_studies
from platform.tune import main

# syncgan_semi as a single-objective study with ASHA and TPE, the shape these schema tests start from
# (the shipped one is a two-objective label-budget study: test_the_default_study_searches_the_label_budget_as_a_cost)
ONE_OBJECTIVE = ["objective={metric: sync_kappa, mode: max}", "scheduler={type: asha, grace_period: 6, reduction_factor: 2}",
                 "searcher={type: optuna_tpe, seed: 0, n_startup_trials: 4}", "tolerance=null"]


def _semi(overrides: list[str] | None = None, preset: str | None = None):
    return load_study("syncgan_semi", [*ONE_OBJECTIVE, *(overrides or [])], preset)


def test_shipped_study_loads_with_search_space_and_local_preset():
    study = _semi()
    assert {p.name for p in study.search} == {"lr_g", "lr_d", "lr_s", "pair_ratio", "semi_rate"}
    assert study.metric == "sync_kappa" and study.mode == "max"
    assert study.resources.trial_cpus < 0.1 and study.resources.max_concurrent_trials == 2
    dist = {p.name: p.to_optuna() for p in study.search}
    assert dist["lr_g"].log and dist["semi_rate"].choices == (0.1, 0.4, 1.0)


def test_overrides_and_preset():
    study = _semi(["config.epochs=2", "num_samples=3", "scheduler.grace_period=1"], preset="gpu")
    assert study.config["epochs"] == 2 and study.num_samples == 3 and study.resources.use_gpu is True


@pytest.mark.parametrize("override, message", [
    ("config.lr_gen=0.1", "lr_gen"),
    ("search.pair_ratio={uniform: [0.9, 0.1]}", "search.pair_ratio"),
    ("search.lr_g={loguniform: [0, 0.1]}", "low must be > 0"),
    ("schedular=asha", "schedular"),
    ("config.semi_rate=2", "semi_rate"),
    ("scheduler.type=hyperband", "scheduler.type"),
    ("scheduler={type: asha, grace_period: 6}", "grace_period 6 exceeds max_t 2"),
    ("config.corpus_dir=/x", "set by the platform"),
])
def test_bad_studies_are_rejected_naming_the_key(override, message):
    with pytest.raises(StudyError, match=message):
        _semi(["config.epochs=2", override])


@pytest.mark.parametrize("override, message", [
    ("search.pair_ratio={uniform: [0.2, 1.5]}",
     r"^search\.pair_ratio\.uniform: high 1\.5 fails syncgan's own check: pair_ratio must lie in \[0, 1\], got 1\.5$"),
    ("search.semi_rate={choice: [0.4, 1.2]}", r"^search\.semi_rate\.choice: choice 1\.2 fails .*semi_rate must lie in \[0, 1\]"),
    ("search.lr_d={uniform: [-0.1, 1e-3]}", r"^search\.lr_d\.uniform: low -0\.1 fails .*lr_d must be > 0"),
    ("search.sync_batch={choice: [pool, fast]}", r"^search\.sync_batch\.choice: choice 'fast' fails .*sync_batch must be one of"),
    ("search.latent_classes={int: [0, 80]}", r"^search\.latent_classes\.int: high 80 fails .*latent_classes must be null or lie in \[0, z_dim\)"),
    ("search.lr_g={choice: [1e-3, fast]}", r"^search\.lr_g\.choice: choice 'fast' fails syncgan's own check: lr_g must be a number"),
])
def test_search_values_are_checked_against_the_trainables_own_bounds(override, message):
    with pytest.raises(StudyError, match=message):
        _semi([override])


def test_dry_run_refuses_a_range_beyond_the_settings_bounds_in_one_line(capsys):
    assert main(["--study", "syncgan_semi", "--set", "search.pair_ratio={uniform: [0.2, 1.5]}", "--dry-run"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "search.pair_ratio" in out.err and "1.5" in out.err


def test_unknown_study_lists_known_ones(capsys):
    assert main(["--study", "no_such_study"]) == 2
    err = capsys.readouterr().err
    assert "no_such_study" in err and all(name in err for name in known_studies())


def test_study_from_yaml_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("trainable: syncgan\ncorpus: {name: fashion_spoken}\npresets: {local-cpu: {trial_cpus: 0.01}}\n")
    study = load_study(str(path))
    assert study.name == "mine" and study.search == [] and study.scheduler.type == "asha"


def test_numbers_written_without_a_dot_are_numbers():
    study = _semi(["search.lr_g={loguniform: [1e-5, 1e-3]}", "config.sync_weight=2e-1"])
    assert study.search[0].to_optuna().low == 1e-5 and study.config["sync_weight"] == "2e-1"
    from trainables.config import from_dict
    from trainables.syncgan import SyncGANConfig

    assert from_dict(SyncGANConfig, study.config).sync_weight == 0.2


TWO_OBJECTIVES = "objective=[{metric: sync_rate, mode: max}, {metric: fid_image, mode: min}]"


@pytest.mark.parametrize("overrides, message", [
    (["search.lr_d={loguniform: [1e-4, 1e-3], when: {nope: true}}"], r"search\.lr_d\.when: 'nope' is not a searched"),
    (["search.lr_d={loguniform: [1e-4, 1e-3], when: {lr_g: 1e-4}}"], r"search\.lr_d\.when: 'lr_g' must be a choice"),
    (["search.lr_d={loguniform: [1e-4, 1e-3], when: {semi_rate: 0.3}}"], r"search\.lr_d\.when\.semi_rate: \[0\.3\] not among"),
    (["search.semi_rate.when={semi_rate: 0.4}"], r"search\.semi_rate\.when: a parameter cannot depend on itself"),
    (["search.beta1={choice: [0.5, 0.9], when: {semi_rate: 0.4}}", "search.semi_rate.when={beta1: 0.5}"],
     r"circular condition (semi_rate -> beta1 -> semi_rate|beta1 -> semi_rate -> beta1)"),
    (["search.lr_d={loguniform: [1e-4, 1e-3], when: [semi_rate]}"], r"search\.lr_d\.when: a mapping"),
    (["search.lr_d={loguniform: [1e-4, 1e-3], grid: [1e-2]}"], r"search\.lr_d\.grid: \[0\.01\] not numbers within"),
    (["search.semi_rate.grid=[0.3]"], r"search\.semi_rate\.grid: \[0\.3\] not among its choices"),
    (["search.semi_rate={choice: [0.4, 0.4]}"], r"search\.semi_rate\.choice: values repeat"),
    (["searcher.type=grid"], r"search\.lr_g: grid search needs a choice or grid"),
    (["searcher.type=cmaes"], r"searcher\.type: 'cmaes' must be one of"),
    (["searcher.population_size=-1"], r"searcher\.population_size"),
    ([TWO_OBJECTIVES], r"scheduler: ASHA stops trials on one metric, and this study has 2 objectives"),
    ([TWO_OBJECTIVES, "scheduler.metric=class_coverage_image"], r"scheduler\.mode: required"),
    ([TWO_OBJECTIVES, "scheduler.metric=transfer_acc_a_to_b", "scheduler.type=asha"], r"scheduler\.metric: 'transfer_acc_a_to_b' is not reported every epoch"),
    (["objective=[{metric: sync_rate, mode: max}, {metric: fid, mode: min}]"], r"objective\[1\]\.metric: 'fid' is not a metric syncgan reports"),
    (["objective=[{metric: sync_rate, mode: max}, {metric: sync_rate, mode: min}]"], r"objective\[1\]\.metric: 'sync_rate' is already"),
    (["objective=[{mode: max}]"], r"objective\[0\]\.metric: required"),
    (["objective=[]"], r"objective: an empty list"),
    (["objective.mode=maximize"], r"objective\.mode: 'maximize'"),
    (["objective.metric=transfer_acc_a_to_b"], r"only reported at the last epoch"),
    (["target=high"], r"target: a finite number \(the sync_kappa that ends the search\), got 'high'"),
    (["target=.inf"], r"target: a finite number"),
    (["target=true"], r"target: a finite number"),
    ([TWO_OBJECTIVES, "scheduler.type=fifo", "target=0.5"], r"target: stops a single-objective search; this study has 2"),
])
def test_bad_search_and_objectives_are_rejected_naming_the_key(overrides, message):
    with pytest.raises(StudyError, match=message):
        _semi(overrides)


def test_conditional_parameters_come_after_their_parents():
    study = _semi(["search.lr_d={loguniform: [1e-4, 1e-3], when: {beta1: 0.9}}",
                                        "search.beta1={choice: [0.5, 0.9], when: {semi_rate: [0.1, 0.4]}}"])
    names = [p.name for p in study.search]
    assert names.index("semi_rate") < names.index("beta1") < names.index("lr_d")
    lr_d = next(p for p in study.search if p.name == "lr_d")
    assert lr_d.when == {"beta1": [0.9]}
    assert lr_d.active({"beta1": 0.9}) and not lr_d.active({"beta1": 0.5}) and not lr_d.active({})
    assert study.resolved()["search"]["lr_d"]["when"] == {"beta1": [0.9]}


def test_grid_searcher_takes_its_size_as_num_samples_and_refuses_more():
    grid = ["searcher.type=grid",
            "search={semi_rate: {choice: [0.1, 0.4, 1.0]}, lr_g: {loguniform: [1e-4, 1e-3], grid: [1e-4, 1e-3]}}"]
    with pytest.raises(StudyError, match=r"num_samples: 8 exceeds the grid's 6 points \(3 x 2\)"):
        _semi([*grid, "num_samples=8"])
    study = _semi([*grid, "num_samples=null"])
    assert study.num_samples == 6 and study.resolved()["searcher"]["grid"] == {"semi_rate": [0.1, 0.4, 1.0], "lr_g": [1e-4, 1e-3]}
    assert _semi([*grid, "num_samples=4"]).num_samples == 4  # a part of the grid, on purpose
    with pytest.raises(StudyError, match=r"search\.semi_rate\.when: grid search needs a fixed space"):
        _semi([*grid, "search.beta1={choice: [0.5, 0.9]}", "search.semi_rate.when={beta1: 0.5}"])


def test_objectives_single_and_multiple():
    study = _semi()
    assert study.objectives == [Objective("sync_kappa", "max")] and not study.multi_objective
    multi = _semi([TWO_OBJECTIVES, "scheduler.type=fifo", "searcher.type=nsga2"])
    assert multi.multi_objective and multi.objectives == [Objective("sync_rate", "max"), Objective("fid_image", "min")]
    assert (multi.metric, multi.mode) == ("sync_rate", "max")  # single-objective code paths see the first
    resolved = multi.resolved()
    assert resolved["objectives"][1] == {"metric": "fid_image", "mode": "min"}
    assert resolved["searcher"] == {"type": "nsga2", "seed": 0, "population_size": 50}
    asha = _semi([TWO_OBJECTIVES, "scheduler.metric=fid_image"])
    assert asha.scheduler_objective() == ("fid_image", "min")  # mode from the objective
    asha = _semi([TWO_OBJECTIVES, "scheduler.metric=class_coverage_image", "scheduler.mode=max"])
    assert asha.resolved()["scheduler"]["metric"] == "class_coverage_image"
    assert _semi(["objective.metric=loss_s", "objective.mode=min"]).objectives == [Objective("loss_s", "min")]


def test_dry_run_prints_the_resolved_objectives_and_searcher(capsys):
    import yaml

    assert main(["--study", "syncgan_semi", "--dry-run", "--set", TWO_OBJECTIVES, "--set", "scheduler.type=fifo"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["resolved"]["objectives"] == [{"metric": "sync_rate", "mode": "max"}, {"metric": "fid_image", "mode": "min"}]
    assert printed["resolved"]["searcher"]["type"] == "optuna_tpe" and printed["resolved"]["scheduler"] == {"type": "fifo"}


def test_target_is_resolved_and_reached_in_the_objectives_direction():
    from platform.search import TargetStopper

    study = _semi(["target=0.3"])
    assert study.target == 0.3 and study.resolved()["target"] == 0.3
    assert _semi().target is None
    up = TargetStopper("sync_rate", "max", 0.3)
    assert not up("a", {"sync_rate": 0.29}) and not up.stop_all()
    assert not up("a", {"sync_rate": float("nan")}) and not up("a", {"loss_s": 1.0}) and not up.stop_all()
    assert not up("b", {"sync_rate": 0.3}) and up.stop_all() and up.reached_by == "b"  # the trial itself is not stopped
    down = TargetStopper("fid_image", "min", 10.0)
    assert not down("a", {"fid_image": 10.5}) and not down.stop_all()
    down("c", {"fid_image": 9.0})
    assert down.stop_all() and down.reached_by == "c"


def test_presets_come_from_the_shared_file_and_a_study_amends_them(tmp_path):
    from platform.study_files import merged_presets, shared_presets

    shared = shared_presets()
    assert {"local-cpu", "gpu"} <= set(shared) and shared["gpu"]["use_gpu"] is True
    study = _semi()
    assert "presets" not in study.raw and study.resources == Resources(**shared["local-cpu"])
    assert _semi(preset="gpu").resources == Resources(**shared["gpu"])
    amended = _semi(["presets.local-cpu.max_concurrent_trials=1", "presets.big.num_workers=4"],
                         preset="big")
    assert amended.resources == Resources(num_workers=4)  # a new preset: Resources' defaults, amended
    assert merged_presets({"local-cpu": {"max_concurrent_trials": 1}})["local-cpu"] == {
        **shared["local-cpu"], "max_concurrent_trials": 1}
    with pytest.raises(StudyError, match="presets.local-cpu: unknown key"):
        _semi(["presets.local-cpu.cpu=1"])
    with pytest.raises(StudyError, match="presets.local-cpu: num_workers must be a whole number, got 1.5"):
        _semi(["presets.local-cpu.num_workers=1.5"])
    with pytest.raises(StudyError, match="presets.local-cpu: cpus_per_worker must be >= 0, got -1"):
        _semi(["presets.local-cpu.cpus_per_worker=-1"])
    with pytest.raises(StudyError, match="preset 'tiny' is not defined"):
        _semi(preset="tiny")


def test_the_default_study_searches_the_label_budget_as_a_cost():
    study = load_study("syncgan_semi")
    assert study.objectives == [Objective("sync_kappa", "max"), Objective("label_budget", "min")] and study.cost_objective == "label_budget"
    assert study.scheduler.type == "fifo" and study.searcher.cover == "semi_rate" and study.tolerance == 0.02
    assert study.resolved()["tolerance"] == 0.02 and study.resolved()["searcher"]["cover"] == "semi_rate"


@pytest.mark.parametrize("overrides, message", [
    (["searcher.cover=lr_g"], r"searcher\.cover: 'lr_g' must be a searched choice parameter"),
    (["searcher.cover=semi_rate", "num_samples=2"], r"searcher\.cover: semi_rate has 3 values and num_samples is 2"),
    (["searcher.cover=semi_rate", "searcher.type=grid", "search={semi_rate: {choice: [0.1, 1.0]}}"],
     r"searcher\.cover: a grid covers every value already"),
    (["tolerance=-0.1"], r"tolerance: a non-negative number"),
    (["objective={metric: sync_kappa, mode: max}"], r"tolerance: answers a trade-off against a cost"),
    (["objective=[{metric: sync_kappa, mode: max}, {metric: label_share, mode: min}]"],
     r"objective\[1\]\.metric: 'label_share' is not a metric syncgan reports"),
])
def test_bad_cost_studies_are_rejected_naming_the_key(overrides, message):
    with pytest.raises(StudyError, match=message):
        load_study("syncgan_semi", overrides)


def test_the_trade_off_names_the_best_trial_per_budget_and_the_smallest_budget_close_to_the_best():
    from platform.summary import trade_off

    study = load_study("syncgan_semi")

    def entry(budget, kappa, lr):
        return {"metrics": {"sync_kappa": kappa, "label_budget": budget}, "config": {"lr_g": lr}, "trial_dir": f"t{lr}",
                "checkpoint": None}

    answer = trade_off(study, [entry(0.1, 0.85, 1), entry(0.4, 0.895, 2), entry(0.4, 0.80, 3), entry(1.0, 0.91, 4)])
    assert [(p["cost"], p["value"], p["config"]["lr_g"]) for p in answer["per_cost"]] == [(0.1, 0.85, 1), (0.4, 0.895, 2), (1.0, 0.91, 4)]
    assert answer["best"] == 0.91 and answer["smallest_cost"] == 0.4 and answer["smallest_cost_value"] == 0.895
    assert trade_off(study, [entry(0.1, 0.90, 1), entry(1.0, 0.91, 4)])["smallest_cost"] == 0.1


@pytest.mark.parametrize("study, override, message", [
    ("syncgan_semi", "config.epochs=inf", "config: epochs must be a finite number, got 'inf'"),
    ("syncgan_semi", "config.epochs=1e400", "config: epochs must be a finite number, got '1e400'"),
    ("syncgan_semi", "config.epochs=nan", "config: epochs must be a finite number, got 'nan'"),
    ("syncgan_semi", "config.beta1=1.0", "beta1 must lie in [0, 1), got 1.0"),
    ("syncgan_semi", "config.sync_weight=nan", "config: sync_weight must be a finite number, got 'nan'"),
    ("syncgan_semi", "config.sync_weight=-1", "sync_weight must be >= 0, got -1.0"),
    ("syncgan_semi", "config.sync_fake_weight=.inf", "config: sync_fake_weight must be a finite number, got inf"),
    ("syncgan_semi", "config.seed=-1", "seed must be >= 0, got -1"),
    ("syncgan_semi", "search.lr_g={loguniform: [1e-4, .inf]}", "lr_g must be a finite number, got inf"),
    ("syncgan_semi", "corpus.overrides.logmel.fmax=nan", "logmel.fmax must be a finite number, got 'nan'"),
    ("vaegan_alpha_beta", "config.width=1e400", "config: width must be a finite number, got '1e400'"),
    ("vae_lr", "config.eval_samples=inf", "config: eval_samples must be a finite number, got 'inf'"),
])
def test_dry_run_refuses_a_non_finite_or_out_of_range_value_in_one_line_naming_the_key(study, override, message,
                                                                                         capsys):
    assert main(["--study", study, "--set", override, "--dry-run"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and message in out.err, out.err
