//! The API test harness starts and answers.

mod common;

use common::TestServer;

#[tokio::test]
async fn the_harness_serves_and_logs_in_the_admin() {
    let server = TestServer::start().await;
    let (status, _) = common::json(server.get("/healthz").await).await;
    assert_eq!(status, 200);
    assert_eq!(server.admin.split('.').count(), 3);
}
