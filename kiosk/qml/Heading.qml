import QtQuick

Text {
    font.family: Theme.family
    font.pixelSize: Theme.fontTitle
    font.bold: true
    color: Theme.text
    wrapMode: Text.WordWrap
}
