import Foundation
import Metrics
import XCTest

/// The shared region: slots, sums, adoption of a dead worker's slot, the text format.
final class SharedMetricsTests: XCTestCase {
    let requests = MetricFamily.named("litellm_proxy_total_requests_metric")
    let latency = MetricFamily.named("litellm_request_total_latency_metric")
    let inFlight = MetricFamily.named("litellm_in_flight_requests")
    let labels = ["gpt-4o", "gpt-4o", "id1", "openai", "200", "/v1/chat/completions", "None"]

    func testSlotsAddUpAndAttachSeesTheSameMemory() throws {
        let region = try MetricsRegion.create(slots: 4, seriesPerSlot: 64)
        let a = MetricsSlot(region: region, index: 0, owner: getpid())
        let b = MetricsSlot(region: try MetricsRegion.attach(descriptor: region.descriptor), index: 1, owner: getpid())
        for _ in 0..<3 { a.series(requests, labels)?.add(1) }
        for _ in 0..<4 { b.series(requests, labels)?.add(1) }
        b.series(requests, ["other"] + labels.dropFirst())?.add(1)
        let snapshot = MetricsSnapshot(region: region)
        XCTAssertEqual(snapshot.counter(requests.name, labels), 7)
        XCTAssertEqual(snapshot.liveSlots, 2)
    }

    func testANewOwnerContinuesTheSlotAndDeadGaugesDisappear() throws {
        let region = try MetricsRegion.create(slots: 2, seriesPerSlot: 64)
        let first = MetricsSlot(region: region, index: 0, owner: getpid())
        first.series(requests, labels)?.add(5)
        first.series(inFlight, [])?.set(3)
        XCTAssertTrue(PrometheusText.render(MetricsSnapshot(region: region)).contains("litellm_in_flight_requests 3"))
        region.setOwner(ofSlot: 0, 0)  // the supervisor reaped it
        XCTAssertFalse(PrometheusText.render(MetricsSnapshot(region: region)).contains("litellm_in_flight_requests 3"))
        XCTAssertEqual(MetricsSnapshot(region: region).counter(requests.name, labels), 5, "counts of a dead worker stay")
        let second = MetricsSlot(region: region, index: 0, owner: getpid())
        second.series(requests, labels)?.add(1)
        XCTAssertEqual(MetricsSnapshot(region: region).counter(requests.name, labels), 6, "never backwards")
        XCTAssertEqual(region.seriesCountForTests(0), 2, "the series was adopted, not duplicated")
    }

    func testFullSlotDropsAndCounts() throws {
        let region = try MetricsRegion.create(slots: 1, seriesPerSlot: 2)
        let slot = MetricsSlot(region: region, index: 0, owner: getpid())
        XCTAssertNotNil(slot.series(requests, ["a"]))
        XCTAssertNotNil(slot.series(requests, ["b"]))
        XCTAssertNil(slot.series(requests, ["c"]))
        XCTAssertTrue(PrometheusText.render(MetricsSnapshot(region: region)).contains("litellm_metrics_dropped_series_metric_total 1"))
    }

    func testPrometheusTextFormat() throws {
        let region = try MetricsRegion.create(slots: 1, seriesPerSlot: 16)
        let slot = MetricsSlot(region: region, index: 0, owner: getpid())
        slot.series(requests, labels)?.add(2)
        let h = slot.series(latency, ["gpt-4o", "gpt-4o", "openai/gpt-4o", "id1", "openai", "None"])
        h?.observe(nanoseconds: 3_000_000)  // 3 ms
        h?.observe(nanoseconds: 700_000_000)  // 0.7 s
        let text = PrometheusText.render(MetricsSnapshot(region: region))
        XCTAssertTrue(text.contains("# TYPE litellm_proxy_total_requests_metric counter\n"), text)
        XCTAssertTrue(text.contains(#"litellm_proxy_total_requests_metric_total{requested_model="gpt-4o",model_group="gpt-4o",model_id="id1",api_provider="openai",status_code="200",route="/v1/chat/completions",hashed_api_key="None",api_key_alias="None",end_user="None",team="None",team_alias="None",user="None",user_email="None"} 2"#), text)
        XCTAssertTrue(text.contains("# TYPE litellm_request_total_latency_metric histogram\n"), text)
        XCTAssertTrue(text.contains(#"le="0.005"} 1"#), text)
        XCTAssertTrue(text.contains(#"le="0.5"} 1"#), text)
        XCTAssertTrue(text.contains(#"le="1.0"} 2"#), text)
        XCTAssertTrue(text.contains(#"le="+Inf"} 2"#), text)
        XCTAssertTrue(text.contains("litellm_request_total_latency_metric_count{"), text)
        XCTAssertTrue(text.contains("litellm_request_total_latency_metric_sum{"), text)
        XCTAssertTrue(text.contains("} 0.703\n"), text)
        XCTAssertEqual(PrometheusText.escape("a\"b\\c\nd"), #"a\"b\\c\nd"#)
    }

    func testBuckets() {
        XCTAssertEqual(LatencyBuckets.bucket(nanoseconds: 0), 0)
        XCTAssertEqual(LatencyBuckets.bucket(nanoseconds: 5_000_000), 0)
        XCTAssertEqual(LatencyBuckets.bucket(nanoseconds: 5_000_001), 1)
        XCTAssertEqual(LatencyBuckets.bucket(nanoseconds: 400_000_000_000), LatencyBuckets.seconds.count)
    }
}
