from tests.conftest import SAMPLE


def test_compute_sample_shop_gives_csv_in_a_pipe(clv):
    result = clv("compute", SAMPLE / "shop.csv")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert header.startswith("customer_id,first_purchase,last_purchase,orders,total_spend")
