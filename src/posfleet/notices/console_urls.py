from django.urls import path

from posfleet.notices import console_views as v

app_name = "notices_console"

urlpatterns = [
    path("", v.notice_list, name="notices"),
    path("<int:notice_id>/", v.notice_detail, name="notice"),
    path("<int:notice_id>/deliveries/<int:delivery_id>/replay/", v.delivery_replay, name="replay"),
    path("calls/", v.call_list, name="calls"),
    path("calls/<int:task_id>/outcome/", v.call_outcome, name="call_outcome"),
    path("fraud/", v.fraud_queue, name="fraud"),
    path("fraud/new/", v.fraud_file, name="fraud_file"),
    path("fraud/<int:report_id>/review/", v.fraud_review, name="fraud_review"),
]
