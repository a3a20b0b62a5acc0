// 8. Receipt: what was taken and its seal (text and QR code), delivery state and
// Send now, the printed (or saved) receipts, then unplug and Finish.
import QtQuick
import Exhibit.Kiosk 1.0

Item {
    id: root
    objectName: "screen_receipt"
    readonly property var receipt: kiosk.receipt
    readonly property var v: receipt.values

    Flickable {
        id: detailsFlick
        anchors { left: parent.left; top: parent.top; bottom: finishRow.top; bottomMargin: Theme.gap }
        width: parent.width * 0.56
        contentHeight: details.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds
        Column {
            id: details
            width: detailsFlick.width
            spacing: Theme.px(10)
            ErrorLine { width: parent.width; text: root.receipt.error }
            ErrorLine {
                objectName: "receiptOutcome"
                width: parent.width
                warning: true
                text: kiosk.session.finished && kiosk.session.state !== "completed" ? kiosk.session.outcome : ""
            }
            Repeater {
                model: [
                    { name: "receipt_case", key: qsTr("Case"), value: root.v.case_reference || "" },
                    { name: "receipt_exhibit", key: qsTr("Exhibit"), value: root.v.exhibit_reference || "" },
                    { name: "receipt_officer", key: qsTr("Officer"), value: root.v.officer_id || "" },
                    { name: "receipt_owner", key: qsTr("Whose phone"), value: ({ victim: qsTr("Victim"), witness: qsTr("Witness"), other: qsTr("Someone else") })[root.v.owner] || "" },
                    { name: "receipt_basis", key: qsTr("Basis"), value: root.receipt.loaded ? root.receipt.basisText : "" },
                    { name: "receipt_device", key: qsTr("Phone"), value: root.receipt.loaded ? root.receipt.deviceText : "" },
                    { name: "receipt_scope", key: qsTr("Chosen"), value: root.v.scope || "" },
                    { name: "receipt_state", key: qsTr("Outcome"), value: root.v.state || "" },
                    { name: "receipt_total", key: qsTr("Total"), value: root.receipt.loaded ? root.receipt.totalText : "" }
                ]
                delegate: Row {
                    width: details.width
                    spacing: Theme.px(16)
                    Text {
                        width: parent.width * 0.26
                        font.family: Theme.family; font.pixelSize: Theme.fontSmall; font.bold: true; color: Theme.text
                        text: modelData.key
                    }
                    Text {
                        objectName: modelData.name
                        width: parent.width * 0.74 - Theme.px(16)
                        font.family: Theme.family; font.pixelSize: Theme.fontSmall; color: Theme.text
                        wrapMode: Text.WrapAnywhere
                        text: modelData.value
                    }
                }
            }
            Rectangle { width: parent.width; height: Theme.px(3); color: Theme.border }
            Repeater {
                model: root.receipt.categories
                delegate: Row {
                    width: details.width
                    spacing: Theme.px(16)
                    Text {
                        width: parent.width * 0.26
                        font.family: Theme.family; font.pixelSize: Theme.fontSmall; font.bold: true; color: Theme.text
                        text: modelData.label
                    }
                    Text {
                        objectName: "receipt_items_" + modelData.name
                        width: parent.width * 0.2
                        font.family: Theme.family; font.pixelSize: Theme.fontSmall; color: Theme.text
                        text: modelData.items
                    }
                    Text {
                        objectName: "receipt_bytes_" + modelData.name
                        width: parent.width * 0.54 - Theme.px(32)
                        font.family: Theme.family; font.pixelSize: Theme.fontSmall; color: Theme.text
                        text: modelData.bytesText
                    }
                }
            }
        }
    }

    Column {
        id: sealColumn
        anchors { left: detailsFlick.right; leftMargin: Theme.gap * 1.5; right: parent.right; top: parent.top }
        spacing: Theme.px(16)
        Text {
            font.family: Theme.family; font.pixelSize: Theme.fontSmall; font.bold: true; color: Theme.text
            text: qsTr("Seal (SHA-256 of what was copied, as it was copied)")
        }
        Row {
            spacing: Theme.gap
            width: parent.width
            QrCode {
                objectName: "receiptQr"
                width: Math.min(Theme.px(260), root.height * 0.3)
                height: width
                text: root.receipt.sealSha256
                visible: text.length > 0
            }
            Text {
                objectName: "receipt_sha256"
                width: parent.width - Theme.px(260) - Theme.gap
                font.family: root.receipt.sealSha256.length > 0 ? "DejaVu Sans Mono" : Theme.family
                font.pixelSize: Theme.fontSmall
                color: Theme.text
                wrapMode: Text.WrapAnywhere
                text: root.receipt.sealText
            }
        }
        Text {
            objectName: "receipt_delivery"
            width: parent.width
            font.family: Theme.family; font.pixelSize: Theme.fontSmall; font.bold: true
            color: root.receipt.delivered ? Theme.success : Theme.text
            wrapMode: Text.WordWrap
            text: root.receipt.delivery
        }
        Row {
            spacing: Theme.gap
            BigButton {
                objectName: "sendNowButton"
                visible: root.receipt.canSendNow
                primary: false
                fontSize: Theme.fontBody
                text: qsTr("Send now")
                onClicked: root.receipt.sendNow()
            }
            BigButton {
                objectName: "documentsButton"
                primary: false
                fontSize: Theme.fontBody
                enabled_: root.receipt.loaded && !root.receipt.printing
                text: qsTr("Print receipts")
                onClicked: root.receipt.makeDocuments(kiosk.officer.officerName)
            }
        }
        Text {
            objectName: "receipt_documents"
            width: parent.width
            font.family: Theme.family; font.pixelSize: Theme.fontSmall; color: Theme.text
            wrapMode: Text.WrapAnywhere
            text: root.receipt.documents
        }
    }

    Row {
        id: finishRow
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        spacing: Theme.gap
        Picture {
            width: Theme.target * 1.2; height: Theme.target * 1.2
            kind: "unplug"
        }
        Body {
            width: parent.width - finishButton.width - Theme.target * 1.2 - 2 * Theme.gap
            anchors.verticalCenter: parent.verticalCenter
            font.bold: true
            text: qsTr("Unplug the phone, then tap Finish. This signs you out.")
        }
        BigButton {
            id: finishButton
            objectName: "finishButton"
            anchors.verticalCenter: parent.verticalCenter
            text: qsTr("Finish")
            onClicked: kiosk.finish()
        }
    }
}
