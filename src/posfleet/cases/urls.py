from django.urls import path

from posfleet.cases.views import actions, application, detail, files, filing, queue

app_name = "cases"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("new/", filing.file_for_merchant, name="new"),
    path("new/applicant/", filing.file_new_applicant, name="new_applicant"),
    path("<int:case_id>/", detail.case_detail, name="detail"),
    path("<int:case_id>/decide/", actions.decide, name="decide"),
    path("<int:case_id>/comment/", actions.comment, name="comment"),
    path("<int:case_id>/material/", actions.material, name="material_add"),
    path("<int:case_id>/resubmit/", application.resubmit, name="resubmit"),
    path("<int:case_id>/allocate/", application.allocate, name="allocate"),
    path("<int:case_id>/ship/", application.ship, name="ship"),
    path("<int:case_id>/deliver/", application.deliver, name="deliver"),
    path("<int:case_id>/activate/", application.activate, name="activate"),
    path("<int:case_id>/take/", actions.take, name="take"),
    path("<int:case_id>/stop/", actions.stop, name="stop"),
    path("<int:case_id>/returns/", actions.returns, name="returns"),
    path("<int:case_id>/statement/", actions.statement, name="statement"),
    path("<int:case_id>/export/", actions.export, name="export"),
    path("<int:case_id>/export.csv", files.export_csv, name="export_csv"),
    path("<int:case_id>/export/status/", files.export_status, name="export_status"),
    path("<int:case_id>/settle/", actions.settle, name="settle"),
    path("<int:case_id>/payment/", actions.payment, name="payment"),
    path("<int:case_id>/pay-batches/", actions.pay_batches, name="pay_batches"),
    path("<int:case_id>/complete/", actions.complete, name="complete"),
    path("<int:case_id>/archive.zip", files.archive, name="archive"),
    path("<int:case_id>/notices/<int:notice_id>.pdf", files.notice_pdf, name="notice_pdf"),
    path("materials/<int:material_id>/", files.material, name="material"),
]
